// Reading and writing .maqd model files (docs/format.md specifies the bytes).
// The one reader and the one writer of the format; `maqd export` writes
// through write_model(), the runtime loads through read_model().
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "maqd_rt/core/model_view.h"
#include "maqd_rt/model.hpp"

namespace maqd_rt {


std::vector<uint8_t> write_model(const Model& model);  // validates first

// Parses and validates a whole file held in memory. Every offset, size and
// count is checked before it is used: a truncated, corrupt or hostile file
// throws maqd_rt::Error naming `source`, the byte offset, the field and what
// was expected; it never reads out of bounds.
Model read_model(const uint8_t* data, size_t size, const std::string& source);

Model load_model(const std::string& path);

// True when `path` is a regular file whose first bytes are the format's
// magic: for a tool that takes a model or some other file (maqd info) and
// must choose by content, not by name. Reads 8 bytes; false when it cannot.
bool starts_like_a_model(const std::string& path);

// A C source file that holds `bytes` (a whole .maqd file) as
//   const uint8_t SYMBOL[] (64-byte aligned) and const size_t SYMBOL_size,
// for a program without a file system: a microcontroller's firmware keeps
// the model in flash (`maqd export --format c-array`). C99 and C++; `note`
// goes into the opening comment. Throws maqd_rt::Error (kBadArgument)
// unless `symbol` is a C identifier.
std::string model_c_source(const std::vector<uint8_t>& bytes, const std::string& symbol,
                           const std::string& note);
// Atomic: writes path + ".tmp" and renames it.
void save_model(const Model& model, const std::string& path);

}  // namespace maqd_rt
