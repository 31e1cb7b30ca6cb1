// libFuzzer target: read_model() must turn any byte string into either a
// Model or a maqd_rt::Error, never a crash, a sanitizer report or a hang;
// and an Engine built from any Model it accepts must run an image, or refuse
// the model with a maqd_rt::Error (its working memory above the limit, here
// 64 MiB, so that the limit acts before the fuzzer's own memory cap).
//
// Almost every random mutation breaks the header checksum, which the reader
// checks before the rest; so each input is also tried with file_size and the
// checksum fixed up, which lets mutations reach the section, tensor, op and
// array checks behind it.
#include <cstddef>
#include <cstdint>
#include <vector>

#include "format_layout.h"
#include "maqd_rt/engine.hpp"
#include "maqd_rt/error.hpp"
#include "maqd_rt/format.hpp"

namespace {

void read_expecting_model_or_error(const uint8_t* data, size_t size) {
  try {
    maqd_rt::Model model = maqd_rt::read_model(data, size, "fuzz-input");
    // A model the reader accepts must be one the writer can write back.
    (void)maqd_rt::write_model(model);
    maqd_rt::EngineOptions options;
    options.max_arena_bytes = size_t(64) << 20;
    maqd_rt::Engine engine(std::move(model), options);
    // The image is the caller's memory, not the engine's: skip inputs whose
    // image alone would be large (the arena already bounds the rest).
    const int64_t pixels = engine.model().input().elements();
    if (pixels > (int64_t(16) << 20)) return;
    std::vector<uint8_t> image(size_t(pixels), 0x5A);
    std::vector<float> logits(size_t(engine.model().num_classes()));
    engine.run(image.data(), 1, logits.data());
  } catch (const maqd_rt::Error&) {
    // The expected outcome for a broken file.
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  read_expecting_model_or_error(data, size);
  namespace format = maqd_rt::format;
  if (size >= format::kHeaderSize) {
    std::vector<uint8_t> sealed(data, data + size);
    for (int i = 0; i < 8; ++i) sealed[format::kFileSizeAt + size_t(i)] = uint8_t(uint64_t(size) >> (8 * i));
    const uint32_t crc = format::file_checksum(sealed.data(), sealed.size());
    for (int i = 0; i < 4; ++i) sealed[format::kChecksumAt + size_t(i)] = uint8_t(crc >> (8 * i));
    read_expecting_model_or_error(sealed.data(), sealed.size());
  }
  return 0;
}
