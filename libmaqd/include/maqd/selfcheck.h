// A quick check of the operators on this machine: closed-form forward
// values, surrogate gradients against their float64 formulas, and finite
// differences through weight standardization and LBN. It runs in well under
// a second; `maqd selfcheck` prints its one-line summary.
#pragma once

#include <string>
#include <vector>

namespace maqd {

struct SelfcheckReport {
  std::vector<std::string> passed_checks;
  std::vector<std::string> failures;  // "<check>: <what differed>"
  bool passed() const { return failures.empty(); }
  std::string summary() const;
};

SelfcheckReport run_selfcheck();

}  // namespace maqd
