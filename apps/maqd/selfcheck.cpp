#include <iostream>

#include "commands.h"
#include "maqd/selfcheck.h"

namespace maqd::cli {

int& exit_code() {
  static int code = 0;
  return code;
}

void register_selfcheck(CLI::App& app) {
  CLI::App* cmd = app.add_subcommand(
      "selfcheck", "Check the MaQD operators against closed forms and finite differences");
  cmd->callback([] {
    const SelfcheckReport report = run_selfcheck();
    std::cout << report.summary() << "\n";
    exit_code() = report.passed() ? 0 : 1;
  });
}

}  // namespace maqd::cli
