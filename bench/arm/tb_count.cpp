// Counts the guest instructions QEMU's user-mode emulator executed, from
// its log of `-d in_asm,exec,nochain` on stdin: in_asm lists each
// translation block's instructions once under its function's name, exec
// names the block's guest address each time it runs (nochain: every
// time). Prints the sum of the executed blocks' lengths; with a file
// argument, also writes "instructions<TAB>function" lines to it, one per
// function. (Debian's qemu-user has no plugins, whose insn counter would do
// this inside QEMU.)
#include <cinttypes>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <unordered_map>
#include <vector>

int main(int argc, char** argv) {
  struct Block {
    uint64_t length;
    size_t function;
  };
  std::unordered_map<uint64_t, Block> blocks;
  std::vector<std::string> names;
  std::unordered_map<std::string, size_t> name_index;
  std::vector<uint64_t> per_function;
  static char line[1 << 16];
  uint64_t start = 0, length = 0, total = 0, unknown = 0;
  size_t function = 0;
  bool in_block = false;
  while (std::fgets(line, sizeof line, stdin)) {
    if (std::strncmp(line, "IN:", 3) == 0) {
      std::string name = line + 3;
      while (!name.empty() && (name.back() == '\n' || name.back() == ' ')) name.pop_back();
      while (!name.empty() && name.front() == ' ') name.erase(0, 1);
      if (name.empty()) name = "?";
      const auto [it, added] = name_index.emplace(name, names.size());
      if (added) {
        names.push_back(name);
        per_function.push_back(0);
      }
      function = it->second;
      in_block = true;
      length = 0;
    } else if (in_block && std::strncmp(line, "0x", 2) == 0) {
      if (length++ == 0) start = std::strtoull(line + 2, nullptr, 16);
    } else if (in_block) {  // the blank line after a block
      if (length) blocks[start] = {length, function};
      in_block = false;
    }
    if (std::strncmp(line, "Trace ", 6) == 0) {
      const char* fields = std::strchr(line, '[');
      const char* pc = fields ? std::strchr(fields, '/') : nullptr;
      if (!pc) continue;
      const auto found = blocks.find(std::strtoull(pc + 1, nullptr, 16));
      if (found == blocks.end()) {
        ++unknown;
        continue;
      }
      total += found->second.length;
      per_function[found->second.function] += found->second.length;
    }
  }
  if (unknown) std::fprintf(stderr, "tb_count: %" PRIu64 " executed blocks were never listed\n", unknown);
  std::printf("%" PRIu64 "\n", total);
  if (argc > 1) {
    FILE* out = std::fopen(argv[1], "w");
    if (!out) {
      std::perror(argv[1]);
      return 1;
    }
    for (size_t i = 0; i < names.size(); ++i)
      if (per_function[i]) std::fprintf(out, "%" PRIu64 "\t%s\n", per_function[i], names[i].c_str());
    std::fclose(out);
  }
  return unknown ? 1 : 0;
}
