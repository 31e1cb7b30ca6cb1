// The C API: C++ exceptions never cross it. Each function checks its
// pointers, and a maqd_rt::Error becomes its status code (Error::status()),
// std::bad_alloc MAQD_RT_OUT_OF_MEMORY, anything else MAQD_RT_ERROR, with
// the message kept per thread for maqd_rt_last_error().
#include <memory>
#include <new>
#include <string>
#include <vector>

#include "maqd_rt.h"
#include "maqd_rt/engine.hpp"
#include "maqd_rt/error.hpp"
#include "maqd_rt/format.hpp"

struct maqd_rt_model {
  std::unique_ptr<maqd_rt::Engine> engine;
  std::vector<float> logits;  // maqd_rt_classify's one image
  std::vector<std::string> class_names;  // held for maqd_rt_class_name's pointers
};

namespace {

using maqd_rt::Status;

static_assert(int(Status::kOk) == MAQD_RT_OK && int(Status::kError) == MAQD_RT_ERROR &&
                  int(Status::kBadArgument) == MAQD_RT_BAD_ARGUMENT &&
                  int(Status::kBadFile) == MAQD_RT_BAD_FILE &&
                  int(Status::kUnsupportedVersion) == MAQD_RT_UNSUPPORTED_VERSION &&
                  int(Status::kLimitExceeded) == MAQD_RT_LIMIT_EXCEEDED &&
                  int(Status::kOutOfMemory) == MAQD_RT_OUT_OF_MEMORY && int(Status::kIo) == MAQD_RT_IO_ERROR,
              "maqd_rt.h's status codes are maqd_rt::Status's values");
static_assert(MAQD_RT_DEFAULT_MAX_ARENA_BYTES == maqd_rt::kDefaultMaxArenaBytes,
              "maqd_rt.h's default arena bound is the Engine's");

thread_local std::string last_error;

template <typename Body>
int guarded(Body&& body) {
  try {
    body();
    last_error.clear();
    return MAQD_RT_OK;
  } catch (const maqd_rt::Error& e) {
    last_error = e.what();
    return int(e.status());
  } catch (const std::bad_alloc&) {
    last_error = "maqd-rt: out of memory";
    return MAQD_RT_OUT_OF_MEMORY;
  } catch (const std::exception& e) {
    last_error = e.what();
  } catch (...) {
    last_error = "maqd-rt: unknown error";
  }
  return MAQD_RT_ERROR;
}

void require(bool condition, const char* message) {
  if (!condition) throw maqd_rt::Error(message, Status::kBadArgument);
}

// Reads (read() returns the Model), then prepares the engine; *out is set
// only on success.
template <typename Read>
int load(const char* function, int threads, size_t max_arena_bytes, maqd_rt_model** out, Read&& read) {
  return guarded([&] {
    require(out != nullptr, (std::string(function) + ": the model pointer is NULL").c_str());
    static_assert(maqd_rt::kMaxEngineThreads == 256, "maqd_rt.h names the bound");
    if (threads < 1 || threads > maqd_rt::kMaxEngineThreads) {
      throw maqd_rt::Error(std::string(function) + ": threads is " + std::to_string(threads) +
                               "; expected 1 to 256",
                           Status::kBadArgument);
    }
    maqd_rt::EngineOptions options;
    options.threads = threads;
    options.max_arena_bytes = max_arena_bytes;
    auto handle = std::make_unique<maqd_rt_model>();
    handle->engine = std::make_unique<maqd_rt::Engine>(read(), options);
    handle->logits.resize(size_t(handle->engine->model().num_classes()));
    handle->class_names = handle->engine->model().class_names();
    *out = handle.release();
  });
}

int load_path(const char* function, const char* path, int threads, size_t max_arena_bytes,
              maqd_rt_model** model) {
  return load(function, threads, max_arena_bytes, model, [&] {
    if (path == nullptr) throw maqd_rt::Error(std::string(function) + ": the path is NULL", Status::kBadArgument);
    return maqd_rt::load_model(path);
  });
}

int load_bytes(const char* function, const void* data, size_t size, int threads, size_t max_arena_bytes,
               maqd_rt_model** model) {
  return load(function, threads, max_arena_bytes, model, [&] {
    if (data == nullptr) throw maqd_rt::Error(std::string(function) + ": data is NULL", Status::kBadArgument);
    return maqd_rt::read_model(static_cast<const uint8_t*>(data), size, "<memory>");
  });
}

}  // namespace

extern "C" {

const char* maqd_rt_last_error(void) { return last_error.c_str(); }

const char* maqd_rt_status_name(int status) {
  switch (status) {
    case MAQD_RT_OK: return "MAQD_RT_OK";
    case MAQD_RT_ERROR: return "MAQD_RT_ERROR";
    case MAQD_RT_BAD_ARGUMENT: return "MAQD_RT_BAD_ARGUMENT";
    case MAQD_RT_BAD_FILE: return "MAQD_RT_BAD_FILE";
    case MAQD_RT_UNSUPPORTED_VERSION: return "MAQD_RT_UNSUPPORTED_VERSION";
    case MAQD_RT_LIMIT_EXCEEDED: return "MAQD_RT_LIMIT_EXCEEDED";
    case MAQD_RT_OUT_OF_MEMORY: return "MAQD_RT_OUT_OF_MEMORY";
    case MAQD_RT_IO_ERROR: return "MAQD_RT_IO_ERROR";
  }
  return "unknown maqd-rt status";
}

int maqd_rt_load(const char* path, int threads, maqd_rt_model** model) {
  return load_path("maqd_rt_load", path, threads, MAQD_RT_DEFAULT_MAX_ARENA_BYTES, model);
}

int maqd_rt_load_limited(const char* path, int threads, size_t max_arena_bytes, maqd_rt_model** model) {
  return load_path("maqd_rt_load_limited", path, threads, max_arena_bytes, model);
}

int maqd_rt_load_memory(const void* data, size_t size, int threads, maqd_rt_model** model) {
  return load_bytes("maqd_rt_load_memory", data, size, threads, MAQD_RT_DEFAULT_MAX_ARENA_BYTES, model);
}

int maqd_rt_load_memory_limited(const void* data, size_t size, int threads, size_t max_arena_bytes,
                                maqd_rt_model** model) {
  return load_bytes("maqd_rt_load_memory_limited", data, size, threads, max_arena_bytes, model);
}

void maqd_rt_free(maqd_rt_model* model) { delete model; }

int maqd_rt_input_shape(const maqd_rt_model* model, int* height, int* width, int* channels) {
  return guarded([&] {
    require(model && height && width && channels, "maqd_rt_input_shape: a pointer argument is NULL");
    const maqd_rt::TensorDesc& in = model->engine->model().input();
    *height = in.height;
    *width = in.width;
    *channels = in.channels;
  });
}

int maqd_rt_num_classes(const maqd_rt_model* model, int* classes) {
  return guarded([&] {
    require(model && classes, "maqd_rt_num_classes: a pointer argument is NULL");
    *classes = model->engine->model().num_classes();
  });
}

int maqd_rt_class_name(const maqd_rt_model* model, int label, const char** name) {
  return guarded([&] {
    require(model && name, "maqd_rt_class_name: a pointer argument is NULL");
    const int classes = model->engine->model().num_classes();
    require(label >= 0 && label < classes, "maqd_rt_class_name: label out of range 0 .. classes − 1");
    *name = model->class_names.empty() ? nullptr : model->class_names[size_t(label)].c_str();
  });
}

int maqd_rt_arena_bytes(const maqd_rt_model* model, size_t* bytes) {
  return guarded([&] {
    require(model && bytes, "maqd_rt_arena_bytes: a pointer argument is NULL");
    *bytes = model->engine->arena_bytes();
  });
}

int maqd_rt_run(maqd_rt_model* model, const unsigned char* images, int batch, float* logits) {
  return guarded([&] {
    require(model && images && logits, "maqd_rt_run: a pointer argument is NULL");
    if (batch < 0) {
      throw maqd_rt::Error("maqd_rt_run: batch is " + std::to_string(batch) + "; expected ≥ 0",
                           Status::kBadArgument);
    }
    model->engine->run(images, batch, logits);
  });
}

int maqd_rt_classify(maqd_rt_model* model, const unsigned char* image, int* label) {
  return guarded([&] {
    require(model && image && label, "maqd_rt_classify: a pointer argument is NULL");
    model->engine->run(image, 1, model->logits.data());
    *label = int(maqd_rt::predicted_class(model->logits.data(), model->logits.size()));
  });
}

}  // extern "C"
