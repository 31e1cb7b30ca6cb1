#include "maqd/process.h"

#include <sys/resource.h>

#if defined(__GLIBC__)
#include <malloc.h>
#endif

namespace maqd {

void tune_allocator_for_training() {
#if defined(__GLIBC__)
  // 32 MiB is glibc's upper limit for the mmap threshold on 64-bit systems;
  // a matching trim threshold keeps the freed top of the heap mapped.
  constexpr int kThreshold = 32 * 1024 * 1024;
  mallopt(M_MMAP_THRESHOLD, kThreshold);
  mallopt(M_TRIM_THRESHOLD, 4 * kThreshold);
#endif
}

int64_t peak_rss_bytes() {
  struct rusage usage {};
  getrusage(RUSAGE_SELF, &usage);
  return int64_t(usage.ru_maxrss) * 1024;  // Linux reports KiB
}

}  // namespace maqd
