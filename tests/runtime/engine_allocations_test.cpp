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

#include "maqd_rt/core/model_view.h"
#include "maqd_rt_core.h"
#include "maqd_rt/engine.hpp"
#include "maqd_rt/format.hpp"
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

namespace {

// The core reads a model in place: opening a file and walking every record,
// array element and metadata entry allocates nothing (a firmware has no
// heap), for a valid file and for one it refuses.
TEST(ModelViewAllocations, OpenAndReadAllocateNothing) {
  const std::vector<uint8_t> bytes = maqd_rt::write_model(maqd_test::small_model(8));
  std::vector<uint8_t> broken = bytes;
  broken.resize(broken.size() - 1);
  const long before = allocations.load();
  maqd_rt::ModelView view;
  maqd_rt::Diagnostic diagnostic;
  const bool opened = view.open(bytes.data(), bytes.size(), &diagnostic);
  int64_t checksum = 0;
  for (uint32_t i = 0; opened && i < view.op_count(); ++i) {
    const maqd_rt::OpRecord op = view.op(i);
    const maqd_rt::OpSlots& slots = maqd_rt::op_slots(op.kind);
    for (size_t s = 0; s < slots.count; ++s)
      for (uint64_t k = 0; k < op.arrays[s].count; ++k)
        checksum += slots.slots[s].type == maqd_rt::ArrayType::kCodes ? view.code(op.arrays[s], op.weight_bits, k)
                    : slots.slots[s].type == maqd_rt::ArrayType::kI64 ? view.i64(op.arrays[s], k) & 1
                                                                       : 1;
  }
  view.for_each_meta([&](const maqd_rt::MetaEntry& e) { checksum += e.key_length; });
  maqd_rt::ModelView refused;
  const bool broken_opened = refused.open(broken.data(), broken.size(), &diagnostic);
  const long during = allocations.load() - before;
  EXPECT_TRUE(opened);
  EXPECT_FALSE(broken_opened);
  EXPECT_EQ(diagnostic.status, maqd_rt::Status::kBadFile);
  EXPECT_NE(checksum, 0);
  EXPECT_EQ(during, 0) << "allocations while opening and reading a model in place";
}

// The core's inference (the firmware's path) plans into the caller's arena
// and runs without the heap.
TEST(CoreAllocations, PrepareAndRunAllocateNothing) {
  const maqd_rt::Model model = maqd_test::small_model(9);
  const std::vector<uint8_t> bytes = maqd_rt::write_model(model);
  std::vector<uint64_t> aligned((bytes.size() + 7) / 8), arena(1 << 14);
  std::copy(bytes.begin(), bytes.end(), reinterpret_cast<uint8_t*>(aligned.data()));
  std::vector<uint8_t> image(size_t(model.input().elements()), 77);
  std::vector<float> logits(size_t(model.num_classes()));
  char message[256];
  int status = -1;
  const long before = allocations.load();
  maqd_rt_core* core = maqd_rt_core_prepare(reinterpret_cast<const unsigned char*>(aligned.data()), bytes.size(),
                                            arena.data(), arena.size() * 8, &status, message, sizeof message);
  const int run = core ? maqd_rt_core_run(core, image.data(), logits.data(), message, sizeof message) : -1;
  const long during = allocations.load() - before;
  ASSERT_NE(core, nullptr) << message;
  EXPECT_EQ(run, MAQD_RT_OK) << message;
  EXPECT_EQ(during, 0) << "allocations while preparing and running the core";
}

}  // namespace
