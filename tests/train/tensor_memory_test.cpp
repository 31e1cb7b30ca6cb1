// The counting allocator (train/tensor_memory.h) against tensors of known
// size: live bytes rise and fall by exactly a tensor's bytes, the peak holds
// until reset and then restarts from the live bytes.
#include "maqd/train/tensor_memory.h"

#include <gtest/gtest.h>
#include <torch/torch.h>

namespace {

using namespace maqd::train;

TEST(TensorMemory, CountsLiveAndPeakBytesOfKnownTensors) {
  install_tensor_memory_counter();
  install_tensor_memory_counter();  // idempotent
  ASSERT_TRUE(tensor_memory_counter_installed());
  const int64_t base = live_tensor_bytes();
  reset_peak_tensor_bytes();
  EXPECT_EQ(peak_tensor_bytes(), base);
  {
    torch::Tensor a = torch::empty({1000}, torch::kFloat);  // 4000 bytes
    EXPECT_EQ(live_tensor_bytes() - base, 4000);
    torch::Tensor b = torch::empty({10, 10}, torch::kDouble);  // 800 bytes
    EXPECT_EQ(live_tensor_bytes() - base, 4800);
    b = torch::Tensor();
    EXPECT_EQ(live_tensor_bytes() - base, 4000);
    EXPECT_EQ(peak_tensor_bytes() - base, 4800);
  }
  EXPECT_EQ(live_tensor_bytes(), base);
  EXPECT_EQ(peak_tensor_bytes() - base, 4800);  // the peak holds after the free
  reset_peak_tensor_bytes();
  EXPECT_EQ(peak_tensor_bytes(), base);  // and restarts from the live bytes
  {
    torch::Tensor c = torch::zeros({3, 5}, torch::kInt);  // 60 bytes
    EXPECT_EQ(peak_tensor_bytes() - base, 60);
  }
  EXPECT_EQ(live_tensor_bytes(), base);
}

TEST(TensorMemory, ViewsAndEmptyTensorsAddNothing) {
  install_tensor_memory_counter();
  const int64_t base = live_tensor_bytes();
  torch::Tensor a = torch::empty({64, 64}, torch::kFloat);
  torch::Tensor view = a.transpose(0, 1).slice(0, 0, 8);
  torch::Tensor none = torch::empty({0, 7}, torch::kFloat);
  EXPECT_EQ(live_tensor_bytes() - base, 64 * 64 * 4);
}

TEST(TensorMemory, ConvolutionThroughOneDnnRunsAndReturnsItsMemory) {
  // oneDNN's tensors (ideep) allocate through c10's raw_allocate, which
  // requires a DataPtr whose context is its data; a wrong counter aborts here.
  install_tensor_memory_counter();
  const int64_t base = live_tensor_bytes();
  {
    torch::Tensor x = torch::randn({8, 16, 14, 14}, torch::requires_grad());
    torch::Tensor w = torch::randn({32, 16, 3, 3}, torch::requires_grad());
    torch::conv2d(x, w, {}, 1, 1).square().sum().backward();
    torch::Tensor dense = x.detach().to_mkldnn().to_dense();
    EXPECT_TRUE(torch::equal(dense, x.detach()));
    EXPECT_EQ(x.grad().sizes(), x.sizes());
    EXPECT_GT(live_tensor_bytes() - base, int64_t((x.numel() + w.numel()) * 2 * 4) - 1);
  }
  EXPECT_EQ(live_tensor_bytes(), base);
}

}  // namespace
