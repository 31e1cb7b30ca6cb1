/* maqd-rt: the integer inference runtime of maqd, callable from C and C++.
 *
 * The runtime depends on nothing but the C++17 standard library, so that it
 * can be linked into firmware and small devices. This header is plain C.
 *
 * Typical use:
 *   maqd_rt_model* model;
 *   int status = maqd_rt_load("model.maqd", 1, &model);
 *   if (status != MAQD_RT_OK) {
 *     fprintf(stderr, "%s: %s\n", maqd_rt_status_name(status), maqd_rt_last_error());
 *     return 1;
 *   }
 *   int label;
 *   maqd_rt_classify(model, pixels, &label);   // pixels: H×W×C bytes
 *   maqd_rt_free(model);
 *
 * Images are 8-bit, [height][width][channels] (channels fastest), exactly as
 * the data set stores them; the model normalizes them itself. */
#ifndef MAQD_RT_H
#define MAQD_RT_H

#include <stddef.h>

#include "maqd_rt_core.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Status codes (defined in maqd_rt_core.h, the core's C API, which this
 * header includes): every function that can fail returns one, and
 * maqd_rt_last_error() then says what and where. */

/* The bound on a model's working memory (the arena: every thread's tensors
 * and scratch) that maqd_rt_load and maqd_rt_load_memory apply: 1 GiB. A
 * file asking for more is refused with MAQD_RT_LIMIT_EXCEEDED before
 * anything that large is allocated. */
#define MAQD_RT_DEFAULT_MAX_ARENA_BYTES ((size_t)1 << 30)

typedef struct maqd_rt_model maqd_rt_model;

/* Threads: a model runs one call at a time (its runs use its own worker
 * threads); to classify concurrently, load one model per calling thread.
 * maqd_rt_last_error() is per thread. No function throws or aborts on bad
 * input: each checks its arguments and returns a status. */

/* Version of the runtime as "MAJOR.MINOR.PATCH"; a static string. */
const char* maqd_rt_version(void);

/* The message of the last failure on this thread ("" if none). */
const char* maqd_rt_last_error(void);

/* The name of a status code, e.g. "MAQD_RT_BAD_FILE"; a static string. */
const char* maqd_rt_status_name(int status);

/* Loads and checks a .maqd file (or a copy of one in memory) and prepares
 * it to run on `threads` threads (1 to 256), with at most max_arena_bytes
 * of working memory (the _limited forms; the others apply
 * MAQD_RT_DEFAULT_MAX_ARENA_BYTES). On success *model must later be
 * released with maqd_rt_free. */
int maqd_rt_load(const char* path, int threads, maqd_rt_model** model);
int maqd_rt_load_memory(const void* data, size_t size, int threads, maqd_rt_model** model);
int maqd_rt_load_limited(const char* path, int threads, size_t max_arena_bytes, maqd_rt_model** model);
int maqd_rt_load_memory_limited(const void* data, size_t size, int threads, size_t max_arena_bytes,
                                maqd_rt_model** model);
/* Releases a model; NULL is allowed and does nothing. */
void maqd_rt_free(maqd_rt_model* model);

/* The input image shape and the number of classes (logits per image). */
int maqd_rt_input_shape(const maqd_rt_model* model, int* height, int* width, int* channels);
int maqd_rt_num_classes(const maqd_rt_model* model, int* classes);
/* The name of class `label` (0 .. classes − 1) as the model file records it
 * (`maqd export` does for Fashion-MNIST and CIFAR), valid until
 * maqd_rt_free; *name is NULL for a file without names. */
int maqd_rt_class_name(const maqd_rt_model* model, int label, const char** name);
/* Bytes of working memory the model holds (planned once at load). */
int maqd_rt_arena_bytes(const maqd_rt_model* model, size_t* bytes);

/* logits: batch × num_classes floats for batch images laid out one after
 * the other. */
int maqd_rt_run(maqd_rt_model* model, const unsigned char* images, int batch, float* logits);
/* The class with the largest logit for one image. */
int maqd_rt_classify(maqd_rt_model* model, const unsigned char* image, int* label);

#ifdef __cplusplus
}
#endif

#endif /* MAQD_RT_H */
