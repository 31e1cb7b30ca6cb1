/* A C program that uses maqd-rt through maqd_rt.h alone: it classifies one
 * raw image ([height][width][channels] bytes) with a .maqd model.
 * Usage: classify_image MODEL.maqd IMAGE.raw
 * Prints "class N" (with the class's name where the model file has one)
 * and exits 0, or prints the runtime's error and exits 1.
 * tests/runtime/c_api_test.cpp builds and runs it. */
#include <stdio.h>
#include <stdlib.h>

#include "maqd_rt.h"

int main(int argc, char** argv) {
  maqd_rt_model* model = NULL;
  unsigned char* pixels = NULL;
  int height = 0, width = 0, channels = 0, label = -1, status = 1;
  size_t bytes = 0;
  FILE* file = NULL;

  if (argc != 3) {
    fprintf(stderr, "usage: %s MODEL.maqd IMAGE.raw\n", argv[0]);
    return 2;
  }
  status = maqd_rt_load(argv[1], 1, &model);
  if (status == MAQD_RT_OK) status = maqd_rt_input_shape(model, &height, &width, &channels);
  if (status != MAQD_RT_OK) {
    fprintf(stderr, "error: %s: %s\n", maqd_rt_status_name(status), maqd_rt_last_error());
    maqd_rt_free(model);
    return 1;
  }
  status = 1;
  bytes = (size_t)height * (size_t)width * (size_t)channels;
  pixels = (unsigned char*)malloc(bytes);
  file = fopen(argv[2], "rb");
  if (pixels == NULL || file == NULL || fread(pixels, 1, bytes, file) != bytes) {
    fprintf(stderr, "error: %s: expected %zu bytes of pixels\n", argv[2], bytes);
  } else if (maqd_rt_classify(model, pixels, &label) != MAQD_RT_OK) {
    fprintf(stderr, "error: %s\n", maqd_rt_last_error());
  } else {
    const char* name = NULL; /* the model file's name for the class, if it has one */
    maqd_rt_class_name(model, label, &name);
    if (name != NULL) printf("class %d (%s)\n", label, name);
    else printf("class %d\n", label);
    status = 0;
  }
  if (file != NULL) fclose(file);
  free(pixels);
  maqd_rt_free(model);
  return status;
}
