// onnxruntime as `maqd run --onnx` and `maqd bench` use it: the npm package
// onnxruntime-node driven through tools/onnxruntime/ort_runner.js in a child
// process (scripts/setup.sh installs both).
#pragma once

#include <memory>
#include <string>
#include <vector>

#include <torch/torch.h>

#include "maqd/line_process.h"

namespace maqd::cli {

class OnnxRuntime {
 public:
  // Starts the runner: MAQD_ORT_RUNNER or the source tree's
  // tools/onnxruntime/ort_runner.js, with `node` from PATH. Throws
  // maqd::Error saying how to install it when it is missing.
  OnnxRuntime();
  ~OnnxRuntime();

  std::string version();
  // The images every later call runs: u8 [N, C, H, W].
  void set_images(const torch::Tensor& images);
  void load(const std::string& name, const std::string& onnx_file, int threads);
  // Logits [N, classes] of every image, `batch` images per call.
  torch::Tensor predict(const std::string& name, int64_t batch, int64_t classes);
  double images_per_second(const std::string& name, int64_t batch, double seconds);

  // A scratch folder (removed with this object) for model and image files.
  const std::string& scratch() const { return scratch_; }

 private:
  std::string scratch_;
  int64_t images_ = 0;
  std::unique_ptr<LineProcess> runner_;
};

}  // namespace maqd::cli
