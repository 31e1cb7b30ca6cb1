// libFuzzer target: read_model() must turn any byte string into either a
// Model or a maqd_rt::Error, never a crash, a sanitizer report or a hang;
// and an Engine built from any Model it accepts must run an image, or refuse
// the model with a maqd_rt::Error (its working memory above the limit, here
// 64 MiB, so that the limit acts before the fuzzer's own memory cap). The
// core's one-image Inference (what firmware runs) must accept exactly the
// files the hosted reader accepts and compute the engine's logits bit for
// bit: a differential check of the two paths on every accepted input.
//
// Almost every random mutation breaks the header checksum, which the reader
// checks before the rest; so each input is also tried with file_size and the
// checksum fixed up, which lets mutations reach the section, tensor, op and
// array checks behind it.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <vector>

#include "format_layout.h"
#include "maqd_rt/core/inference.h"
#include "maqd_rt/core/model_view.h"
#include "maqd_rt/engine.hpp"
#include "maqd_rt/error.hpp"
#include "maqd_rt/format.hpp"

namespace {

// The core on the same bytes, in an arena sized from the engine's (the
// core's tensors take no more than the engine's, plus its table); false
// where it refuses them for any reason but a short arena.
bool core_logits(const uint8_t* data, size_t size, size_t engine_arena, const std::vector<uint8_t>& image,
                 std::vector<float>& logits) {
  std::vector<uint64_t> bytes((size + 7) / 8);  // the core reads arrays in place: 8-aligned
  if (size) std::memcpy(bytes.data(), data, size);
  maqd_rt::ModelView view;
  maqd_rt::Diagnostic d;
  if (!view.open(reinterpret_cast<const uint8_t*>(bytes.data()), size, &d)) return false;
  size_t arena_bytes = engine_arena + 24 * size_t(view.tensor_count()) + (size_t(1) << 16);
  maqd_rt::Inference inference;
  for (;;) {
    std::unique_ptr<uint64_t[]> arena(new uint64_t[arena_bytes / 8]);  // not zeroed: the core must not care
    if (inference.prepare(view, arena.get(), arena_bytes, &d)) {
      logits.assign(size_t(inference.num_classes()), 0.0f);
      return inference.run(image.data(), logits.data(), &d);
    }
    if (d.status != maqd_rt::Status::kLimitExceeded || arena_bytes > (size_t(1) << 28)) return false;
    arena_bytes *= 2;
  }
}

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
    std::vector<float> from_core;
    if (!core_logits(data, size, engine.arena_bytes(), image, from_core) ||
        std::memcmp(from_core.data(), logits.data(), logits.size() * sizeof(float)) != 0)
      std::abort();  // the core refused or computed otherwise what the engine ran
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
