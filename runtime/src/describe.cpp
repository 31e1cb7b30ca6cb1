#include "maqd_rt/describe.hpp"

#include <cstdarg>
#include <cstdio>
#include <memory>
#include <vector>

#include "maqd_rt/engine.hpp"
#include "maqd_rt/error.hpp"
#include "maqd_rt/format.hpp"
#include "file_bytes.h"
#include "maqd_rt_core.h"

namespace maqd_rt {
namespace {

// printf onto a string (the description is built before anything prints).
__attribute__((format(printf, 2, 3))) void append(std::string& out, const char* format, ...) {
  va_list args, copy;
  va_start(args, format);
  va_copy(copy, args);
  const int length = std::vsnprintf(nullptr, 0, format, copy);
  va_end(copy);
  if (length < 0) {
    va_end(args);
    throw Error(std::string("describe_model_file: cannot format '") + format + "'");
  }
  const size_t at = out.size();
  out.resize(at + size_t(length) + 1);
  std::vsnprintf(&out[at], size_t(length) + 1, format, args);
  out.resize(at + size_t(length));
  va_end(args);
}

// The arena firmware gives maqd_rt_core_prepare (maqd_rt_core.h) for the
// file's bytes, its context included, as maqd_rt_core_arena_bytes reports
// it: found by doubling the arena until prepare stops asking for more, up
// to the engine's default limit (the file is not trusted with more).
uint64_t core_arena_bytes(const FileBytes& file, const std::string& path) {
  char message[512];
  for (size_t words = 512;; words *= 2) {
    // 8-byte aligned, as the core requires; not zeroed (the core writes before it reads)
    const std::unique_ptr<uint64_t[]> arena(new uint64_t[words]);
    int status = MAQD_RT_OK;
    const maqd_rt_core* core =
        maqd_rt_core_prepare(file.data(), file.size(), arena.get(), words * 8, &status, message, sizeof message);
    if (core) {
      size_t bytes = 0;
      maqd_rt_core_arena_bytes(core, &bytes);
      return bytes;
    }
    if (status != MAQD_RT_LIMIT_EXCEEDED) throw Error(path + ": " + message, Status(status));
    if (words * 8 >= kDefaultMaxArenaBytes)
      throw Error(path + ": the core's arena would pass " + std::to_string(kDefaultMaxArenaBytes) +
                      " bytes (the runtime's default limit); expected a model that fits it (" + message + ")",
                  Status::kLimitExceeded);
  }
}

}  // namespace

std::string pad_columns(const std::string& text, size_t width, bool right_align) {
  size_t columns = 0;
  for (const char c : text) columns += (static_cast<unsigned char>(c) & 0xC0) != 0x80;  // UTF-8 lead bytes
  const std::string fill(columns < width ? width - columns : 0, ' ');
  return right_align ? fill + text : text + fill;
}

std::string describe_model_file(const std::string& path, int threads) {
  const FileBytes file(path);
  const Model model = read_model(file.data(), file.size(), path);

  std::string out;
  append(out, "%s: format version %u, %zu bytes\n", path.c_str(), model.version, file.size());
  for (const auto& [key, value] : model.text) {
    std::string line = value;  // class_names holds one name a line: keep the table's rows
    for (size_t at; (at = line.find('\n')) != std::string::npos;) line.replace(at, 1, ", ");
    append(out, "  %-16s %s\n", without_control_bytes(key).c_str(), without_control_bytes(line).c_str());
  }
  for (const auto& [key, value] : model.integers)
    append(out, "  %-16s %lld\n", without_control_bytes(key).c_str(), (long long)value);
  append(out, "input: %d×%d×%d bytes (height×width×channels)\n", model.input().height, model.input().width,
         model.input().channels);
  const std::vector<std::string> names = model.class_names();
  append(out, "classes: %d", model.num_classes());
  for (size_t k = 0; k < names.size(); ++k)
    append(out, "%s%zu %s", k ? ", " : " (", k, without_control_bytes(names[k]).c_str());
  append(out, "%s\n", names.empty() ? "" : ")");

  append(out, "\n%-4s %-28s %-11s %-16s %-5s %10s\n", "op", "layer", "kind", "output", "dtype", "weights");
  int64_t weight_bits = 0, weight_count = 0;
  for (size_t i = 0; i < model.ops.size(); ++i) {
    const Op& op = model.ops[i];
    const TensorDesc& output = model.tensors[size_t(op.output)];
    std::string weights = "-";
    if (op.kind == OpKind::kConv) {
      weights = std::to_string(op.weights.size()) + "×" + std::to_string(op.weight_bits) + "b";
      weight_bits += int64_t(op.weights.size()) * op.weight_bits;
      weight_count += int64_t(op.weights.size());
    }
    const std::string shape = std::to_string(output.height) + "×" + std::to_string(output.width) + "×" +
                              std::to_string(output.channels);
    append(out, "%-4zu %-28s %-11s %s %-5s %s\n", i, without_control_bytes(op.name).c_str(), op_kind_name(op.kind),
           pad_columns(shape, 16).c_str(), dtype_name(output.dtype),
           pad_columns(weights, 10, /*right_align=*/true).c_str());
  }
  append(out, "\nconv weights: %lld values, %lld bytes packed as stored (the same values as int8: %lld "
              "bytes; as float32: %lld bytes)\n",
         (long long)weight_count, (long long)((weight_bits + 7) / 8), (long long)weight_count,
         (long long)(4 * weight_count));
  append(out, "core arena (one image on one thread, weights read in place from the file, as on a "
              "microcontroller): %llu bytes, its context included (a few less on a 32-bit CPU)\n",
         (unsigned long long)core_arena_bytes(file, path));
  std::vector<int> thread_counts{1};
  if (threads > 1) thread_counts.push_back(threads);
  for (int t : thread_counts) {
    EngineOptions options;
    options.threads = t;
    const Engine engine(model, options);
    append(out, "runtime arena with %d thread%s: %zu bytes (%s kernels)\n", t, t > 1 ? "s" : "",
           engine.arena_bytes(), engine.isa());
    if (t == 1)
      append(out, "runtime's weights prepared at load (%s layout, beyond the file): %zu bytes\n", engine.isa(),
             engine.prepared_weight_bytes());
  }
  return out;
}

}  // namespace maqd_rt
