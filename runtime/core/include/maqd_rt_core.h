/* maqd-rt's freestanding core from C: one model, one image at a time, in
 * working memory the caller gives (no heap, no files, no threads, no
 * exceptions), the model's bytes read in place (a C array in flash made by
 * `maqd export --format c-array` stays there). What firmware calls.
 *
 *   static uint8_t arena[48 * 1024] __attribute__((aligned(8)));
 *   char message[256];
 *   int status;
 *   maqd_rt_core* core = maqd_rt_core_prepare(model, sizeof model, arena, sizeof arena,
 *                                             &status, message, sizeof message);
 *   if (!core) { ... status, message ... }
 *   float logits[10];
 *   status = maqd_rt_core_run(core, image, logits, message, sizeof message);
 *
 * The context lives at the start of the arena; the arena and the model
 * must outlive it and start at 8-byte boundaries. A context runs one image
 * at a time; give each concurrent caller its own arena and context. Every
 * function checks its pointers and returns a status (maqd_rt.h's codes). */
#ifndef MAQD_RT_CORE_H
#define MAQD_RT_CORE_H

#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Status codes, shared with the hosted API (maqd_rt.h). */
#define MAQD_RT_OK 0
#define MAQD_RT_ERROR 1               /* anything not below */
#define MAQD_RT_BAD_ARGUMENT 2        /* a NULL pointer, an unaligned buffer, a size out of range */
#define MAQD_RT_BAD_FILE 3            /* the bytes break a rule of the format (docs/format.md) */
#define MAQD_RT_UNSUPPORTED_VERSION 4 /* written by a newer maqd: update the runtime */
#define MAQD_RT_LIMIT_EXCEEDED 5      /* a valid model that needs more than the limits allow */
#define MAQD_RT_OUT_OF_MEMORY 6       /* an allocation (or a thread start) failed */
#define MAQD_RT_IO_ERROR 7            /* the file could not be opened or read */

typedef struct maqd_rt_core maqd_rt_core;

/* Checks the model's bytes and graph and plans its tensors into the arena.
 * Returns the context, or NULL with *status and `message` (NUL-terminated,
 * cut to `message_capacity`; either may be NULL) saying why: a bad or newer
 * file, or an arena too small (MAQD_RT_LIMIT_EXCEEDED, naming the bytes it
 * needs). */
maqd_rt_core* maqd_rt_core_prepare(const unsigned char* model, size_t model_bytes, void* arena,
                                   size_t arena_bytes, int* status, char* message,
                                   size_t message_capacity);

/* image: height × width × channels bytes ([row][column][channel]); logits:
 * maqd_rt_core_num_classes floats. */
int maqd_rt_core_run(const maqd_rt_core* core, const unsigned char* image, float* logits,
                     char* message, size_t message_capacity);

/* The input shape, the class count, and the bytes of the arena in use. */
int maqd_rt_core_input_shape(const maqd_rt_core* core, int* height, int* width, int* channels);
int maqd_rt_core_num_classes(const maqd_rt_core* core, int* classes);
int maqd_rt_core_arena_bytes(const maqd_rt_core* core, size_t* bytes);

#ifdef __cplusplus
}
#endif

#endif /* MAQD_RT_CORE_H */
