// write_file_atomically (maqd/files.h), which writes every run record,
// summary and export: all of the file or none of it, and an error that
// names the file and the system's reason.
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>

#include <gtest/gtest.h>

#include "data/fixtures.h"
#include "maqd/error.h"
#include "maqd/files.h"

namespace {

namespace fs = std::filesystem;

std::string read_bytes(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

// The message of the maqd::Error that `write` throws ("" if none).
template <typename Write>
std::string error_of(Write write) {
  try {
    write();
  } catch (const maqd::Error& e) {
    return e.what();
  }
  return "";
}

TEST(WriteFileAtomically, WritesAndReplacesTheWholeFileLeavingNoTemporary) {
  maqd_test::TempDir dir;
  const std::string path = dir.file("out.bin");
  const std::string first("first\0with a zero byte", 22);
  maqd::write_file_atomically(path, first);
  EXPECT_EQ(read_bytes(path), first);
  maqd::write_file_atomically(path, "second, shorter");
  EXPECT_EQ(read_bytes(path), "second, shorter");
  maqd::write_file_atomically(path, "");
  EXPECT_TRUE(fs::exists(path));
  EXPECT_EQ(fs::file_size(path), 0u);
  EXPECT_FALSE(fs::exists(path + ".tmp"));
}

TEST(WriteFileAtomically, AMissingFolderIsNamedAndNothingIsWritten) {
  maqd_test::TempDir dir;
  const std::string path = dir.file("no-such-folder/out.onnx");
  const std::string message = error_of([&] { maqd::write_file_atomically(path, "bytes"); });
  EXPECT_NE(message.find(path), std::string::npos) << message;
  EXPECT_NE(message.find("No such file or directory"), std::string::npos) << message;
  EXPECT_FALSE(fs::exists(dir.file("no-such-folder")));
}

TEST(WriteFileAtomically, AFailedReplaceLeavesTheTargetAndNoTemporary) {
  maqd_test::TempDir dir;
  const std::string path = dir.file("a-folder");
  fs::create_directories(fs::path(path) / "inside");  // a file cannot replace a non-empty folder
  const std::string message = error_of([&] { maqd::write_file_atomically(path, "bytes"); });
  EXPECT_NE(message.find(path + ": cannot replace it"), std::string::npos) << message;
  EXPECT_TRUE(fs::is_directory(fs::path(path) / "inside"));
  EXPECT_FALSE(fs::exists(path + ".tmp"));
}

TEST(WriteFileAtomically, AnEmptyPathIsRefused) {
  const std::string message = error_of([&] { maqd::write_file_atomically("", "bytes"); });
  EXPECT_NE(message.find("the path is empty"), std::string::npos) << message;
  EXPECT_FALSE(fs::exists(".tmp"));
}

}  // namespace
