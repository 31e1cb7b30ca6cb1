/* maqd-rt: the integer inference runtime of maqd, callable from C and C++.
 *
 * The runtime depends on nothing but the C++17 standard library, so that it
 * can be linked into firmware and small devices. This header is plain C.
 *
 * Typical use:
 *   maqd_rt_model* model;
 *   if (maqd_rt_load("model.maqd", 1, &model) != MAQD_RT_OK) {
 *     fprintf(stderr, "%s\n", maqd_rt_last_error()); return 1;
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

#ifdef __cplusplus
extern "C" {
#endif

/* Status codes: every function that can fail returns one. */
#define MAQD_RT_OK 0
#define MAQD_RT_ERROR 1 /* details: maqd_rt_last_error() */

typedef struct maqd_rt_model maqd_rt_model;

/* Version of the runtime as "MAJOR.MINOR.PATCH"; a static string. */
const char* maqd_rt_version(void);

/* The message of the last failure on this thread ("" if none). */
const char* maqd_rt_last_error(void);

/* Loads and checks a .maqd file (or a copy of one in memory) and prepares
 * it to run on `threads` threads (1 to 256). On success *model must later be
 * released with maqd_rt_free. */
int maqd_rt_load(const char* path, int threads, maqd_rt_model** model);
int maqd_rt_load_memory(const void* data, size_t size, int threads, maqd_rt_model** model);
void maqd_rt_free(maqd_rt_model* model);

/* The input image shape and the number of classes (logits per image). */
void maqd_rt_input_shape(const maqd_rt_model* model, int* height, int* width, int* channels);
int maqd_rt_num_classes(const maqd_rt_model* model);
/* Bytes of working memory the model holds (planned once at load). */
size_t maqd_rt_arena_bytes(const maqd_rt_model* model);

/* logits: batch × num_classes floats for batch images laid out one after
 * the other. */
int maqd_rt_run(maqd_rt_model* model, const unsigned char* images, int batch, float* logits);
/* The class with the largest logit for one image. */
int maqd_rt_classify(maqd_rt_model* model, const unsigned char* image, int* label);

#ifdef __cplusplus
}
#endif

#endif /* MAQD_RT_H */
