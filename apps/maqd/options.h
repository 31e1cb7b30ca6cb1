// The one table of training options: flag name, help, group, and the
// TrainConfig field it sets. `maqd train` and `maqd sweep` share it.
#pragma once

#include <CLI/CLI.hpp>

#include "maqd/train/config.h"

namespace maqd::cli {

void add_train_options(CLI::App& cmd, train::TrainConfig& config);

// A whole number in decimal digits from `low` to `high`, with a message
// that says so: CLI::PositiveNumber's names a 309-digit maximum, and CLI11
// wraps "-1" into an unsigned option instead of refusing it.
CLI::Validator whole_number(uint64_t low, uint64_t high);

// What `option` takes, for a message: "a whole number", "a number", ...
std::string expected_value(const CLI::Option& option);

// The TrainConfig field (its to_json key) that a training option sets, e.g.
// --batch-size → batch_size, --data → dataset.
std::string train_config_key(const std::string& flag);

}  // namespace maqd::cli
