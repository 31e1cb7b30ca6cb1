// Whole files written by maqd (run records, summaries, plots' scripts,
// exports): all or nothing, so that an interrupted or failed write never
// leaves a half-written file where a complete one is expected.
#pragma once

#include <string>
#include <string_view>

namespace maqd {

// Writes `bytes` to `path.tmp` and renames it onto `path` (replacing any
// file there). Throws maqd::Error naming the path and the system's reason
// (a missing folder, no permission, a full disk); `path` is then unchanged
// and no `.tmp` file is left.
void write_file_atomically(const std::string& path, std::string_view bytes);

}  // namespace maqd
