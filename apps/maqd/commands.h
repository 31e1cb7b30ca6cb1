// Registration of maqd's subcommands. Each subcommand's file defines its
// options and a callback; the callback sets the process's exit code.
#pragma once

#include <optional>

#include <CLI/CLI.hpp>

#include "maqd/data/dataset.h"

namespace maqd::cli {

int& exit_code();  // set by a subcommand's callback; main returns it

void register_selfcheck(CLI::App& app);
void register_train(CLI::App& app);
void register_eval(CLI::App& app);
void register_info(CLI::App& app);
void register_deploy(CLI::App& app);  // export, run, bench
void register_sweep(CLI::App& app);
void register_plot(CLI::App& app);

// How eval and run read a test set: labelled by the network's classes (a
// folder set's), the first `limit` images (0: all), and a long read's
// progress noted on stderr (stdout may be --json). A folder set's test
// split is `given_split` where given, else 0 where `dir` has a test/
// folder (a split folder holds class folders only), else the network's
// `trained_split`.
// A folder set's images are scaled as the network's training images were
// (`trained_resize`, "HxW" or empty). A given split follows train's rule
// (train::valid_test_split).
data::LoadOptions test_set_options(const std::string& kind, const std::vector<std::string>& classes, int64_t limit,
                                   std::optional<double> given_split, double trained_split,
                                   const std::string& dir, const std::string& trained_resize);

// Refuses a test set whose labels stand for other classes than the
// network's (`trained`, data::label_meanings), e.g. MNIST's digits for a
// Fashion-MNIST network: its accuracy would be meaningless. `network`
// names the network in the message ("checkpoint", "model").
void check_same_classes(const std::vector<std::string>& trained, const data::Dataset& test,
                        const std::string& network);

}  // namespace maqd::cli
