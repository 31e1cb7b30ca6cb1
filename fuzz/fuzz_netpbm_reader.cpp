// libFuzzer target: decode_netpbm() (maqd_rt/image.hpp, the reader maqd-rt
// and the folder data sets use) must turn any byte string into an image or a
// maqd_rt::Error, never a crash, a sanitizer report, a hang or an
// allocation the input's length does not pay for; and an accepted image
// holds height × width × channels pixels.
#include <cstddef>
#include <cstdint>
#include <cstdlib>

#include "maqd_rt/error.hpp"
#include "maqd_rt/image.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  try {
    const maqd_rt::NetpbmImage image = maqd_rt::decode_netpbm(data, size, "fuzz input");
    const maqd_rt::TensorDesc& s = image.shape;
    const bool consistent = s.height >= 1 && s.width >= 1 && (s.channels == 1 || s.channels == 3) &&
                            image.pixels.size() == size_t(s.height) * size_t(s.width) * size_t(s.channels) &&
                            image.pixels.size() <= size;  // never more pixels than input bytes
    if (!consistent) std::abort();
  } catch (const maqd_rt::Error&) {
  }
  return 0;
}
