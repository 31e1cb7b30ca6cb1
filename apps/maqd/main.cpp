// maqd: the command-line tool. Each subcommand lives in its own file and
// registers itself here; errors become one line on stderr and exit code 1
// (2 for a command line that does not parse).
#include <exception>
#include <iostream>

#include <CLI/CLI.hpp>
#include <c10/util/Exception.h>

#include "commands.h"
#include "config_file.h"
#include "maqd/ops/kernel_isa.h"
#include "maqd/process.h"

int main(int argc, char** argv) {
  CLI::App app{"maqd: quantization-aware training with MaQD and integer inference"};
  app.set_version_flag("--version", std::string("maqd ") + MAQD_VERSION_STRING);
  app.require_subcommand(0, 1);
  const auto command_names = [&app] {
    std::string names;
    for (const CLI::App* sub : app.get_subcommands({})) names += (names.empty() ? "" : ", ") + sub->get_name();
    return names;
  };
  maqd::tune_allocator_for_training();
  maqd::cli::register_train(app);
  maqd::cli::register_eval(app);
  maqd::cli::register_info(app);
  maqd::cli::register_deploy(app);
  maqd::cli::register_sweep(app);
  maqd::cli::register_plot(app);
  maqd::cli::register_selfcheck(app);
  try {
    // MAQD_ISA=avx2|scalar pins LibTorch's oneDNN and ATen kernels as well
    // as maqd's own, before the first tensor operation reads their settings.
    maqd::cap_libtorch_isa_from_environment();
    // A subcommand's --config file sets defaults before the flags are parsed.
    const std::string config_file = maqd::cli::find_config_argument(argc, argv);
    if (!config_file.empty() && argc > 1)
      for (CLI::App* sub : app.get_subcommands([&](CLI::App* s) { return s->get_name() == argv[1]; }))
        if (sub->get_option_no_throw("--config")) maqd::cli::apply_config_file(*sub, config_file);
    app.parse(argc, argv);
    if (app.get_subcommands().empty()) {  // a usage error, like `maqd-rt` without a model
      std::cerr << "maqd: error: no command given; expected one of " << command_names() << " (see maqd --help)\n";
      return 2;
    }
  } catch (const CLI::ParseError& e) {
    if (e.get_exit_code() == 0) return app.exit(e);  // --help, --version
    // A bad command line is an error like any other: one line, naming the
    // help that lists what is allowed; exit code 2, as usage errors have.
    bool known = false;
    for (const CLI::App* sub : app.get_subcommands({})) known = known || (argc > 1 && sub->get_name() == argv[1]);
    if (!known && argc > 1 && argv[1][0] != '-') {  // CLI11 would list every argument as unexpected
      std::cerr << "maqd: error: unknown command '" << argv[1] << "'; expected one of " << command_names()
                << " (see maqd --help)\n";
      return 2;
    }
    std::cerr << "maqd: error: " << (known ? std::string(argv[1]) + ": " : std::string()) << e.what()
              << " (see maqd " << (known ? std::string(argv[1]) + " " : std::string()) << "--help)\n";
    return 2;
  } catch (const c10::Error& e) {
    std::cerr << "maqd: error: " << e.what_without_backtrace() << "\n";
    return 1;
  } catch (const std::exception& e) {
    std::cerr << "maqd: error: " << e.what() << "\n";
    return 1;
  }
  return maqd::cli::exit_code();
}
