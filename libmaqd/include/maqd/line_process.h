// A helper program run as a child process that answers one line for each
// command line it reads: how benchmarks drive their peers (bench_training's
// PyTorch script, `maqd bench`'s onnxruntime runner) without counting their
// start-up or the pipes in any timing.
#pragma once

#include <sys/types.h>

#include <cstdio>
#include <string>
#include <utility>
#include <vector>

namespace maqd {

class LineProcess {
 public:
  // Starts argv[0] (a path) with the given arguments; `environment` is set
  // in the child only. `who` names the helper in error messages. The
  // child's stderr stays the caller's, so its own errors reach the user.
  LineProcess(const std::vector<std::string>& argv, const std::string& who,
              const std::vector<std::pair<std::string, std::string>>& environment = {});
  // Sends "quit" and waits for the child.
  ~LineProcess();
  LineProcess(const LineProcess&) = delete;
  LineProcess& operator=(const LineProcess&) = delete;

  // Sends one command line and returns the answer line without its newline.
  // Throws maqd::Error naming the helper and the command when it ends
  // without answering, or answers "error: ...".
  std::string ask(const std::string& command);

 private:
  std::string who_;
  pid_t pid_ = -1;
  FILE* in_ = nullptr;
  FILE* out_ = nullptr;
};

}  // namespace maqd
