// Debian's libtorch-dev 1.13 ships c10d's reducer.hpp but not the RPC
// header it includes for two names. This file declares just those two, as
// reducer.hpp uses them: a callback type it static_asserts equal to its own,
// and a shared_ptr whose size does not depend on the class behind it, so
// c10d::Reducer's layout is the library's. CMake puts this folder on the
// include path only when LibTorch lacks the real header (LibTorch 2.x wheels
// carry it).
#pragma once

#include <functional>
#include <memory>

#include <ATen/core/Tensor.h>

namespace torch::distributed::autograd {

class DistAutogradContext {
 public:
  using GradCallback = std::function<bool(at::Tensor&)>;
};
using ContextPtr = std::shared_ptr<DistAutogradContext>;

}  // namespace torch::distributed::autograd
