// --config FILE.toml: every key of the file is a long option of the
// subcommand (e.g. `batch-size = 64`), applied as that option's default so
// that flags given on the command line win. Unknown keys are an error naming
// the file and the key.
#pragma once

#include <string>

#include <CLI/CLI.hpp>

namespace maqd::cli {

// Finds "--config FILE" or "--config=FILE" in argv; empty when absent.
std::string find_config_argument(int argc, char** argv);

// Applies the file's keys to `cmd`'s options; throws maqd::Error.
void apply_config_file(CLI::App& cmd, const std::string& path);

// Whether apply_config_file gave `option` a value (CLI11 counts only the
// command line's flags as given).
bool set_by_config_file(const CLI::Option& option);

}  // namespace maqd::cli
