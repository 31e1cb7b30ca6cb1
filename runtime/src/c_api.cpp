// The C API: C++ exceptions never cross it; they become MAQD_RT_ERROR and a
// thread-local message.
#include <algorithm>
#include <memory>
#include <string>
#include <vector>

#include "maqd_rt.h"
#include "maqd_rt/engine.hpp"
#include "maqd_rt/error.hpp"
#include "maqd_rt/format.hpp"

struct maqd_rt_model {
  std::unique_ptr<maqd_rt::Engine> engine;
  std::vector<float> logits;  // maqd_rt_classify's one image
};

namespace {

thread_local std::string last_error;

template <typename Body>
int guarded(Body&& body) {
  try {
    body();
    last_error.clear();
    return MAQD_RT_OK;
  } catch (const std::exception& e) {
    last_error = e.what();
  } catch (...) {
    last_error = "maqd-rt: unknown error";
  }
  return MAQD_RT_ERROR;
}

void require(bool condition, const char* message) {
  if (!condition) throw maqd_rt::Error(message);
}

int load(maqd_rt::Model model, int threads, maqd_rt_model** out) {
  return guarded([&] {
    require(out != nullptr, "maqd_rt_load: the model pointer is NULL");
    static_assert(maqd_rt::kMaxEngineThreads == 256, "the message below names the bound");
    require(threads >= 1 && threads <= maqd_rt::kMaxEngineThreads,
            "maqd_rt_load: threads must be 1 to 256");
    auto handle = std::make_unique<maqd_rt_model>();
    maqd_rt::EngineOptions options;
    options.threads = threads;
    handle->engine = std::make_unique<maqd_rt::Engine>(std::move(model), options);
    handle->logits.resize(size_t(handle->engine->model().num_classes()));
    *out = handle.release();
  });
}

}  // namespace

extern "C" {

const char* maqd_rt_last_error(void) { return last_error.c_str(); }

int maqd_rt_load(const char* path, int threads, maqd_rt_model** model) {
  maqd_rt::Model parsed;
  const int status = guarded([&] {
    require(path != nullptr, "maqd_rt_load: the path is NULL");
    parsed = maqd_rt::load_model(path);
  });
  return status == MAQD_RT_OK ? load(std::move(parsed), threads, model) : status;
}

int maqd_rt_load_memory(const void* data, size_t size, int threads, maqd_rt_model** model) {
  maqd_rt::Model parsed;
  const int status = guarded([&] {
    require(data != nullptr || size == 0, "maqd_rt_load_memory: data is NULL");
    parsed = maqd_rt::read_model(static_cast<const uint8_t*>(data), size, "<memory>");
  });
  return status == MAQD_RT_OK ? load(std::move(parsed), threads, model) : status;
}

void maqd_rt_free(maqd_rt_model* model) { delete model; }

void maqd_rt_input_shape(const maqd_rt_model* model, int* height, int* width, int* channels) {
  const maqd_rt::TensorDesc& in = model->engine->model().input();
  if (height) *height = in.height;
  if (width) *width = in.width;
  if (channels) *channels = in.channels;
}

int maqd_rt_num_classes(const maqd_rt_model* model) { return model->engine->model().num_classes(); }

size_t maqd_rt_arena_bytes(const maqd_rt_model* model) { return model->engine->arena_bytes(); }

int maqd_rt_run(maqd_rt_model* model, const unsigned char* images, int batch, float* logits) {
  return guarded([&] {
    require(model && images && logits, "maqd_rt_run: a pointer argument is NULL");
    require(batch >= 0, "maqd_rt_run: batch must be ≥ 0");
    model->engine->run(images, batch, logits);
  });
}

int maqd_rt_classify(maqd_rt_model* model, const unsigned char* image, int* label) {
  return guarded([&] {
    require(model && image && label, "maqd_rt_classify: a pointer argument is NULL");
    model->engine->run(image, 1, model->logits.data());
    *label = int(std::max_element(model->logits.begin(), model->logits.end()) - model->logits.begin());
  });
}

}  // extern "C"
