// A model file described for a person: what `maqd info MODEL.maqd` and
// `maqd-rt MODEL.maqd --info` both print.
#pragma once

#include <cstddef>
#include <string>

namespace maqd_rt {

// The file's format version and size, its metadata (text and integers, a
// line each), input shape, classes by label, its ops (layer, kind, output
// shape and dtype, weights), the conv weights' bytes, and the memory it
// runs in: the core's arena (one image on one thread, weights read in
// place), the engine's arena on one thread and, where threads > 1, on that
// many, and the engine's prepared weights (the same for any count). Ends
// in a newline. Throws maqd_rt::Error as load_model does for a file it
// cannot read.
std::string describe_model_file(const std::string& path, int threads = 2);

// UTF-8 `text` padded with spaces to `width` characters (code points), on
// the right or (right_align) the left: a shape's × is two bytes but one
// column, so printf's byte widths would shift a table's later columns.
// (Wide and combining characters are not one column each; the tables'
// cells hold none.) The tables of describe_model_file and of `maqd info`
// on a checkpoint use it.
std::string pad_columns(const std::string& text, size_t width, bool right_align = false);

}  // namespace maqd_rt
