// maqd_rt_core.h: the core's Inference behind a C API that checks every
// pointer. The context is constructed at the start of the caller's arena
// and the Inference plans into the rest.
#include "maqd_rt_core.h"

#include <new>

#include "maqd_rt/core/inference.h"
#include "maqd_rt/core/model_view.h"

struct maqd_rt_core {
  maqd_rt::Inference inference;
};

namespace {

constexpr size_t kContextBytes = (sizeof(maqd_rt_core) + 7) / 8 * 8;

void copy_message(const maqd_rt::Diagnostic& d, char* message, size_t capacity) {
  if (!message || capacity == 0) return;
  size_t i = 0;
  for (; i + 1 < capacity && d.message[i]; ++i) message[i] = d.message[i];
  message[i] = 0;
}

int refuse(const char* text, char* message, size_t capacity) {
  maqd_rt::Diagnostic d;
  size_t i = 0;
  for (; text[i] && i + 1 < sizeof d.message; ++i) d.message[i] = text[i];
  d.message[i] = 0;
  copy_message(d, message, capacity);
  return MAQD_RT_BAD_ARGUMENT;
}

}  // namespace

extern "C" {

maqd_rt_core* maqd_rt_core_prepare(const unsigned char* model, size_t model_bytes, void* arena,
                                   size_t arena_bytes, int* status, char* message,
                                   size_t message_capacity) {
  int ignored = 0;
  int& result = status ? *status : ignored;
  if (!model || !arena) {
    result = refuse(!model ? "maqd_rt_core_prepare: model is NULL" : "maqd_rt_core_prepare: arena is NULL",
                    message, message_capacity);
    return nullptr;
  }
  if (reinterpret_cast<uintptr_t>(arena) % 8 != 0 || arena_bytes < kContextBytes) {
    result = MAQD_RT_LIMIT_EXCEEDED;
    if (reinterpret_cast<uintptr_t>(arena) % 8 != 0) {
      result = refuse("maqd_rt_core_prepare: the arena is not 8-byte aligned; expected an 8-byte boundary",
                      message, message_capacity);
    } else {
      refuse("maqd_rt_core_prepare: the arena is smaller than the context; expected a larger arena", message,
             message_capacity);
    }
    return nullptr;
  }
  maqd_rt::ModelView view;
  maqd_rt::Diagnostic d;
  if (!view.open(model, model_bytes, &d)) {
    result = int(d.status);
    copy_message(d, message, message_capacity);
    return nullptr;
  }
  maqd_rt_core* core = new (arena) maqd_rt_core();
  if (!core->inference.prepare(view, arena, arena_bytes, &d, kContextBytes)) {
    core->~maqd_rt_core();
    result = int(d.status);
    copy_message(d, message, message_capacity);
    return nullptr;
  }
  result = MAQD_RT_OK;
  if (message && message_capacity) message[0] = 0;
  return core;
}

int maqd_rt_core_run(const maqd_rt_core* core, const unsigned char* image, float* logits, char* message,
                     size_t message_capacity) {
  if (!core) return refuse("maqd_rt_core_run: core is NULL", message, message_capacity);
  maqd_rt::Diagnostic d;
  if (!core->inference.run(image, logits, &d)) {
    copy_message(d, message, message_capacity);
    return int(d.status);
  }
  return MAQD_RT_OK;
}

int maqd_rt_core_input_shape(const maqd_rt_core* core, int* height, int* width, int* channels) {
  if (!core || !height || !width || !channels) return MAQD_RT_BAD_ARGUMENT;
  const maqd_rt::TensorRecord input = core->inference.input();
  *height = input.height;
  *width = input.width;
  *channels = input.channels;
  return MAQD_RT_OK;
}

int maqd_rt_core_num_classes(const maqd_rt_core* core, int* classes) {
  if (!core || !classes) return MAQD_RT_BAD_ARGUMENT;
  *classes = core->inference.num_classes();
  return MAQD_RT_OK;
}

int maqd_rt_core_arena_bytes(const maqd_rt_core* core, size_t* bytes) {
  if (!core || !bytes) return MAQD_RT_BAD_ARGUMENT;
  *bytes = size_t(core->inference.arena_bytes());
  return MAQD_RT_OK;
}

}  // extern "C"
