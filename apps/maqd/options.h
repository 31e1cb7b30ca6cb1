// The one table of training options: flag name, help, group, and the
// TrainConfig field it sets. `maqd train` and `maqd sweep` share it.
#pragma once

#include <CLI/CLI.hpp>

#include "maqd/train/config.h"

namespace maqd::cli {

void add_train_options(CLI::App& cmd, train::TrainConfig& config);

// The TrainConfig field (its to_json key) that a training option sets, e.g.
// --batch-size → batch_size, --data → dataset.
std::string train_config_key(const std::string& flag);

}  // namespace maqd::cli
