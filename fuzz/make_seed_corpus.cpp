// Writes the fuzz seed corpus (valid .maqd files and broken variants, from
// tests/runtime/format_bytes.h) into the folder given as the argument, so
// that no binary seeds need to be committed.
#include <cstdio>
#include <filesystem>
#include <fstream>

#include "runtime/format_bytes.h"

int main(int argc, char** argv) {
  if (argc != 2) {
    std::fprintf(stderr, "usage: %s <corpus folder>\n", argv[0]);
    return 2;
  }
  const std::filesystem::path folder = argv[1];
  std::filesystem::create_directories(folder);
  for (const auto& [name, bytes] : maqd_test::seed_corpus()) {
    std::ofstream out(folder / name, std::ios::binary | std::ios::trunc);
    out.write(reinterpret_cast<const char*>(bytes.data()), std::streamsize(bytes.size()));
    if (!out) {
      std::fprintf(stderr, "cannot write %s\n", (folder / name).string().c_str());
      return 1;
    }
  }
  return 0;
}
