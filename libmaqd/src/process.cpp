#include "maqd/process.h"

#include <fstream>

#include <sys/resource.h>
#include <unistd.h>

#if defined(__GLIBC__)
#include <malloc.h>
#endif

namespace maqd {

void tune_allocator_for_training() {
#if defined(__GLIBC__)
  // 32 MiB is glibc's upper limit for the mmap threshold on 64-bit systems;
  // a matching trim threshold keeps the freed top of the heap mapped.
  mallopt(M_MMAP_THRESHOLD, kMallocMmapThreshold);
  mallopt(M_TRIM_THRESHOLD, kMallocTrimThreshold);
#endif
}

int64_t peak_rss_bytes() {
  struct rusage usage {};
  getrusage(RUSAGE_SELF, &usage);
  return int64_t(usage.ru_maxrss) * 1024;  // Linux reports KiB
}

bool reset_peak_rss() {
  std::ofstream clear_refs("/proc/self/clear_refs");
  clear_refs << "5";
  clear_refs.flush();
  return bool(clear_refs);
}

int64_t current_rss_bytes() {
  std::ifstream statm("/proc/self/statm");
  int64_t total_pages = 0, resident_pages = 0;
  if (!(statm >> total_pages >> resident_pages)) return 0;
  return resident_pages * int64_t(sysconf(_SC_PAGESIZE));
}

}  // namespace maqd
