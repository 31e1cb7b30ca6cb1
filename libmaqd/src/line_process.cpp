#include "maqd/line_process.h"

#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>

#include "maqd/error.h"

namespace maqd {

LineProcess::LineProcess(const std::vector<std::string>& argv, const std::string& who,
                         const std::vector<std::pair<std::string, std::string>>& environment)
    : who_(who) {
  check(!argv.empty(), who_.c_str(), "no program to start");
  int to_child[2], from_child[2];
  check(pipe(to_child) == 0 && pipe(from_child) == 0, who_.c_str(), "pipe failed");
  std::fflush(nullptr);  // nothing buffered here is written twice by the child
  pid_ = fork();
  check(pid_ >= 0, who_.c_str(), "fork failed");
  if (pid_ == 0) {
    for (const auto& [name, value] : environment) setenv(name.c_str(), value.c_str(), 1);
    dup2(to_child[0], 0);
    dup2(from_child[1], 1);
    close(to_child[0]);
    close(to_child[1]);
    close(from_child[0]);
    close(from_child[1]);
    std::vector<char*> args;
    for (const std::string& a : argv) args.push_back(const_cast<char*>(a.c_str()));
    args.push_back(nullptr);
    execv(args[0], args.data());
    std::perror((who + ": cannot start " + argv[0]).c_str());
    _exit(127);
  }
  close(to_child[0]);
  close(from_child[1]);
  in_ = fdopen(to_child[1], "w");
  out_ = fdopen(from_child[0], "r");
}

LineProcess::~LineProcess() {
  if (in_) {
    std::fputs("quit\n", in_);
    std::fclose(in_);
  }
  if (out_) std::fclose(out_);
  if (pid_ > 0) waitpid(pid_, nullptr, 0);
}

std::string LineProcess::ask(const std::string& command) {
  std::fprintf(in_, "%s\n", command.c_str());
  std::fflush(in_);
  std::string answer;
  char chunk[4096];
  while (std::fgets(chunk, sizeof chunk, out_)) {
    answer += chunk;
    if (!answer.empty() && answer.back() == '\n') break;
  }
  check(!answer.empty(), who_.c_str(), "ended without answering '", command,
        "'; its error is above");
  while (!answer.empty() && (answer.back() == '\n' || answer.back() == '\r')) answer.pop_back();
  const std::string error_prefix = "error: ";
  if (answer.rfind(error_prefix, 0) == 0) throw Error(who_ + ": " + answer.substr(error_prefix.size()));
  return answer;
}

}  // namespace maqd
