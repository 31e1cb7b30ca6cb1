// Engine::run() allocates nothing: everything is planned at construction.
// This file replaces the global operator new of test_runtime with one that
// counts (and otherwise behaves as the standard one), so that a run that
// allocates, on any thread, shows.
#include <algorithm>
#include <atomic>
#include <cstdlib>
#include <new>
#include <vector>

#include <gtest/gtest.h>

#include "maqd_rt/engine.hpp"
#include "model_fixtures.h"

namespace {
std::atomic<long> allocations{0};

void* counted(std::size_t size) {
  allocations.fetch_add(1, std::memory_order_relaxed);
  if (void* p = std::malloc(size ? size : 1)) return p;
  throw std::bad_alloc();
}
void* counted_aligned(std::size_t size, std::align_val_t align) {
  allocations.fetch_add(1, std::memory_order_relaxed);
  const std::size_t alignment = std::max(sizeof(void*), std::size_t(align));
  void* p = nullptr;
  if (posix_memalign(&p, alignment, size ? size : 1) == 0) return p;
  throw std::bad_alloc();
}
}  // namespace

void* operator new(std::size_t size) { return counted(size); }
void* operator new[](std::size_t size) { return counted(size); }
void* operator new(std::size_t size, std::align_val_t align) { return counted_aligned(size, align); }
void* operator new[](std::size_t size, std::align_val_t align) { return counted_aligned(size, align); }
void operator delete(void* p) noexcept { std::free(p); }
void operator delete[](void* p) noexcept { std::free(p); }
void operator delete(void* p, std::size_t) noexcept { std::free(p); }
void operator delete[](void* p, std::size_t) noexcept { std::free(p); }
void operator delete(void* p, std::align_val_t) noexcept { std::free(p); }
void operator delete[](void* p, std::align_val_t) noexcept { std::free(p); }
void operator delete(void* p, std::size_t, std::align_val_t) noexcept { std::free(p); }
void operator delete[](void* p, std::size_t, std::align_val_t) noexcept { std::free(p); }

namespace {

TEST(EngineAllocations, RunAllocatesNothingOnAnyThreadCount) {
  const maqd_rt::Model model = maqd_test::small_model(8);
  const size_t image_bytes = size_t(model.input().elements());
  std::vector<uint8_t> images(6 * image_bytes, 0x33);
  std::vector<float> logits(6 * size_t(model.num_classes()));
  // The counter itself must see an allocation, or the test proves nothing.
  const long before_vector = allocations.load();
  { std::vector<int> probe(3); }
  ASSERT_GT(allocations.load(), before_vector);
  for (int threads : {1, 2, 3}) {
    for (bool profile : {false, true}) {
      maqd_rt::EngineOptions options;
      options.threads = threads;
      options.profile = profile;
      maqd_rt::Engine engine(model, options);
      engine.run(images.data(), 1, logits.data());  // warm: the pool's threads are up
      for (int64_t batch : {1, 2, 6}) {
        const long before = allocations.load();
        engine.run(images.data(), batch, logits.data());
        EXPECT_EQ(allocations.load() - before, 0)
            << "threads " << threads << (profile ? " profile" : "") << " batch " << batch;
      }
    }
  }
}

}  // namespace
