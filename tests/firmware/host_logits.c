/* The host runtime's logits in the firmware's format (firmware/cortex-m4/
 * main.c), for tests/firmware/qemu_test.sh to compare line by line:
 *
 *   host_logits MODEL.maqd IMAGES.bin
 *
 * IMAGES.bin: images one after another, in the model's input layout. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "maqd_rt.h"

int main(int argc, char** argv) {
  if (argc != 3) {
    fprintf(stderr, "usage: %s MODEL.maqd IMAGES.bin\n", argv[0]);
    return 2;
  }
  maqd_rt_model* model;
  int status = maqd_rt_load(argv[1], 1, &model);
  if (status != MAQD_RT_OK) {
    fprintf(stderr, "%s: %s\n", maqd_rt_status_name(status), maqd_rt_last_error());
    return 1;
  }
  int height, width, channels, classes;
  maqd_rt_input_shape(model, &height, &width, &channels);
  maqd_rt_num_classes(model, &classes);
  const size_t image_bytes = (size_t)height * (size_t)width * (size_t)channels;
  FILE* in = fopen(argv[2], "rb");
  if (!in) {
    fprintf(stderr, "%s: cannot open for reading\n", argv[2]);
    return 1;
  }
  unsigned char* image = malloc(image_bytes);
  float* logits = malloc((size_t)classes * sizeof(float));
  for (int i = 0; fread(image, 1, image_bytes, in) == image_bytes; ++i) {
    status = maqd_rt_run(model, image, 1, logits);
    if (status != MAQD_RT_OK) {
      fprintf(stderr, "%s: %s\n", maqd_rt_status_name(status), maqd_rt_last_error());
      return 1;
    }
    int best = 0;
    for (int k = 1; k < classes; ++k)
      if (logits[k] > logits[best]) best = k;
    printf("image %d: class %d logits", i, best);
    for (int k = 0; k < classes; ++k) {
      uint32_t bits;
      memcpy(&bits, &logits[k], sizeof bits);
      printf(" 0x%08lx", (unsigned long)bits);
    }
    printf("\n");
  }
  fclose(in);
  free(image);
  free(logits);
  maqd_rt_free(model);
  return 0;
}
