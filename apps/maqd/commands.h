// Registration of maqd's subcommands. Each subcommand's file defines its
// options and a callback; the callback sets the process's exit code.
#pragma once

#include <CLI/CLI.hpp>

namespace maqd::cli {

int& exit_code();  // set by a subcommand's callback; main returns it

void register_selfcheck(CLI::App& app);
void register_train(CLI::App& app);
void register_eval(CLI::App& app);
void register_info(CLI::App& app);
void register_deploy(CLI::App& app);  // export, run, bench
void register_sweep(CLI::App& app);
void register_plot(CLI::App& app);

// maqd info on a .maqd file: its ops, metadata, sizes and runtime arena.
void describe_model_file(const std::string& path);

}  // namespace maqd::cli
