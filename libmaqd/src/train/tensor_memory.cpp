#include "maqd/train/tensor_memory.h"

#include <atomic>
#include <cstring>

#include <c10/core/Allocator.h>
#include <c10/core/CPUAllocator.h>
#include <c10/core/impl/alloc_cpu.h>

namespace maqd::train {
namespace {

std::atomic<int64_t> live_bytes{0};
std::atomic<int64_t> peak_bytes{0};
std::atomic<bool> installed{false};

// Each block starts with a header holding its size, so the deleter needs
// nothing but the data pointer: c10's raw_allocate (which oneDNN's tensors
// use through ideep) requires the DataPtr's context to be its data.
// 64 bytes keep c10's 64-byte alignment of the data.
constexpr size_t kHeader = 64;

void raise_peak(int64_t value) {
  int64_t peak = peak_bytes.load(std::memory_order_relaxed);
  while (value > peak && !peak_bytes.compare_exchange_weak(peak, value, std::memory_order_relaxed)) {
  }
}

void counted_free(void* data) {
  if (!data) return;
  char* block = static_cast<char*>(data) - kHeader;
  int64_t size;
  std::memcpy(&size, block, sizeof size);
  live_bytes.fetch_sub(size, std::memory_order_relaxed);
  c10::free_cpu(block);
}

struct CountingCpuAllocator final : c10::Allocator {
  c10::DataPtr allocate(size_t n) const override {
    if (n == 0) return {nullptr, nullptr, &counted_free, c10::Device(c10::DeviceType::CPU)};
    char* block = static_cast<char*>(c10::alloc_cpu(n + kHeader));
    const int64_t size = int64_t(n);
    std::memcpy(block, &size, sizeof size);
    raise_peak(live_bytes.fetch_add(size, std::memory_order_relaxed) + size);
    void* data = block + kHeader;
    return {data, data, &counted_free, c10::Device(c10::DeviceType::CPU)};
  }
  c10::DeleterFnPtr raw_deleter() const override { return &counted_free; }
};

CountingCpuAllocator counting_allocator;

}  // namespace

void install_tensor_memory_counter() {
  if (installed.exchange(true)) return;
  // Priority above the default CPU allocator's registration (0), so a later
  // default registration cannot replace it.
  c10::SetAllocator(c10::DeviceType::CPU, &counting_allocator, /*priority=*/1);
}

bool tensor_memory_counter_installed() { return installed.load(); }

int64_t live_tensor_bytes() { return live_bytes.load(std::memory_order_relaxed); }

int64_t peak_tensor_bytes() { return peak_bytes.load(std::memory_order_relaxed); }

void reset_peak_tensor_bytes() { peak_bytes.store(live_bytes.load(std::memory_order_relaxed)); }

}  // namespace maqd::train
