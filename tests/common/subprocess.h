// For tests that run programs: a shell command's output (stdout and stderr
// together) with its exit status.
#pragma once

#include <cstdio>
#include <string>

#include <sys/wait.h>

namespace maqd_test {

// *status: the exit code, or −1 where the command did not exit normally.
inline std::string run_command(const std::string& command, int* status) {
  std::string output;
  FILE* pipe = ::popen((command + " 2>&1").c_str(), "r");
  char buffer[256];
  while (pipe && std::fgets(buffer, sizeof buffer, pipe)) output += buffer;
  const int raw = pipe ? ::pclose(pipe) : -1;
  *status = WIFEXITED(raw) ? WEXITSTATUS(raw) : -1;
  return output;
}

}  // namespace maqd_test
