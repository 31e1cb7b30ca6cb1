#include "onnxruntime.h"

#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>

#include "maqd/error.h"

#ifndef MAQD_SOURCE_DIR
#define MAQD_SOURCE_DIR "."
#endif

namespace maqd::cli {
namespace {

std::string find_in_path(const std::string& program) {
  const char* path = std::getenv("PATH");
  std::string dirs = path ? path : "/usr/bin:/bin";
  size_t begin = 0;
  while (begin <= dirs.size()) {
    const size_t end = std::min(dirs.find(':', begin), dirs.size());
    const std::string candidate = dirs.substr(begin, end - begin) + "/" + program;
    if (access(candidate.c_str(), X_OK) == 0) return candidate;
    begin = end + 1;
  }
  return "";
}

}  // namespace

OnnxRuntime::OnnxRuntime() {
  const char* override_path = std::getenv("MAQD_ORT_RUNNER");
  const std::string runner =
      override_path ? override_path : std::string(MAQD_SOURCE_DIR) + "/tools/onnxruntime/ort_runner.js";
  const std::string module = std::filesystem::path(runner).parent_path() / "node_modules/onnxruntime-node";
  const std::string node = find_in_path("node");
  check(!node.empty(), "onnxruntime", "no `node` on PATH; bash scripts/setup.sh installs nodejs");
  check(std::filesystem::exists(runner) && std::filesystem::exists(module), "onnxruntime", runner,
        " or ", module, " is missing; bash scripts/setup.sh installs onnxruntime-node there (or set ",
        "MAQD_ORT_RUNNER to an ort_runner.js beside its node_modules)");
  char pattern[] = "/tmp/maqd-onnx-XXXXXX";
  check(mkdtemp(pattern) != nullptr, "onnxruntime", "cannot create a scratch folder in /tmp");
  scratch_ = pattern;
  runner_ = std::make_unique<LineProcess>(std::vector<std::string>{node, runner}, "onnxruntime (" + runner + ")");
}

OnnxRuntime::~OnnxRuntime() {
  runner_.reset();
  std::error_code ignored;
  std::filesystem::remove_all(scratch_, ignored);
}

std::string OnnxRuntime::version() { return runner_->ask("version"); }

void OnnxRuntime::set_images(const torch::Tensor& images) {
  check(images.dim() == 4 && images.scalar_type() == torch::kUInt8, "onnxruntime",
        "images: expected u8 [N, C, H, W]");
  const torch::Tensor c = images.contiguous();
  const std::string file = scratch_ + "/images.u8";
  std::ofstream out(file, std::ios::binary);
  out.write(reinterpret_cast<const char*>(c.data_ptr<uint8_t>()), std::streamsize(c.numel()));
  check(bool(out), file.c_str(), "write failed");
  out.close();
  runner_->ask("input " + file + " " + std::to_string(c.size(0)) + " " + std::to_string(c.size(1)) +
               " " + std::to_string(c.size(2)) + " " + std::to_string(c.size(3)));
  images_ = c.size(0);
}

void OnnxRuntime::load(const std::string& name, const std::string& onnx_file, int threads) {
  runner_->ask("load " + name + " " + onnx_file + " " + std::to_string(threads));
}

torch::Tensor OnnxRuntime::predict(const std::string& name, int64_t batch, int64_t classes) {
  const std::string file = scratch_ + "/logits.f32";
  runner_->ask("predict " + name + " " + std::to_string(batch) + " " + file);
  torch::Tensor logits = torch::empty({images_, classes}, torch::kFloat);
  std::ifstream in(file, std::ios::binary);
  in.read(reinterpret_cast<char*>(logits.data_ptr<float>()), std::streamsize(logits.numel() * 4));
  check(in.gcount() == std::streamsize(logits.numel() * 4), file.c_str(), "expected ",
        logits.numel() * 4, " bytes of logits from onnxruntime, got ", in.gcount());
  return logits;
}

double OnnxRuntime::images_per_second(const std::string& name, int64_t batch, double seconds) {
  return std::stod(runner_->ask("time " + name + " " + std::to_string(batch) + " " + std::to_string(seconds)));
}

}  // namespace maqd::cli
