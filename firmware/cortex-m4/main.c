/* A Cortex-M4 firmware that classifies a few images with maqd-rt's core:
 * the model is a C array in flash (`maqd export --format c-array`), the
 * working memory a static arena in RAM, and the results go to the host over
 * semihosting, one line per image:
 *
 *   image 3: class 7 logits 0x41a2c3d4 0xc0f1...   (the float bits, exact)
 *
 * then the arena and stack the run used. Built by firmware/cortex-m4/build.sh
 * (with the model's and the images' C files) and run under qemu-system-arm
 * (MPS2 AN386) by tests/firmware/qemu_test.sh, which compares every line
 * with the host runtime's. */
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "maqd_rt_core.h"

/* From the generated sources: the model file's bytes and the test images. */
extern const unsigned char maqd_model[];
extern const size_t maqd_model_size;
extern const unsigned char test_images[];
extern const int test_image_count;

#ifndef ARENA_BYTES
#define ARENA_BYTES (160 * 1024)
#endif
static uint8_t arena[ARENA_BYTES] __attribute__((aligned(8)));

/* The stack's high-water mark: paint a region below the current stack
 * pointer before the work, find the deepest byte that changed after it. */
#define STACK_PROBE_BYTES (16 * 1024)
#define STACK_PAINT 0xA5

static uint8_t* __attribute__((noinline)) stack_probe_bottom(void) {
  return (uint8_t*)__builtin_frame_address(0) - STACK_PROBE_BYTES;
}

static void __attribute__((noinline)) paint_stack(uint8_t* bottom) {
  volatile uint8_t* p = bottom;
  uint8_t* limit = (uint8_t*)__builtin_frame_address(0) - 64; /* leave this frame alone */
  while (p < limit) *p++ = STACK_PAINT;
}

static size_t stack_used(const uint8_t* bottom, const uint8_t* top) {
  const uint8_t* p = bottom;
  while (p < top && *p == STACK_PAINT) ++p;
  return (size_t)(top - p);
}

/* With -DMAQD_FW_SYSTICK: SysTick (the core clock, 24 bits, counting down)
 * around each image, printed as "ticks N". On a part that is cycles (an
 * image that takes more than 2^24 cycles wraps it); under QEMU with
 * -icount shift=0 it counts emulated instructions / 40 at the MPS2's
 * 25 MHz, which compares kernels, not the part's speed. */
#ifdef MAQD_FW_SYSTICK
#define SYST_CSR (*(volatile uint32_t*)0xE000E010u)
#define SYST_RVR (*(volatile uint32_t*)0xE000E014u)
#define SYST_CVR (*(volatile uint32_t*)0xE000E018u)
static void systick_start(void) {
  SYST_RVR = 0xFFFFFFu;
  SYST_CVR = 0;
  SYST_CSR = 5u; /* enable, core clock, no interrupt */
}
static uint32_t systick_now(void) { return SYST_CVR; }
#endif

static uint32_t float_bits(float value) {
  uint32_t bits;
  memcpy(&bits, &value, sizeof bits);
  return bits;
}

int main(void) {
  char message[256];
  int status;
  uint8_t* bottom = stack_probe_bottom();
  uint8_t* top = bottom + STACK_PROBE_BYTES;
  paint_stack(bottom);

  maqd_rt_core* core = maqd_rt_core_prepare(maqd_model, maqd_model_size, arena, sizeof arena, &status,
                                            message, sizeof message);
  if (!core) {
    printf("error %d: %s\n", status, message);
    return 1;
  }
  int height, width, channels, classes;
  maqd_rt_core_input_shape(core, &height, &width, &channels);
  maqd_rt_core_num_classes(core, &classes);
  const size_t image_bytes = (size_t)height * (size_t)width * (size_t)channels;

  for (int i = 0; i < test_image_count; ++i) {
    float logits[256];
    if (classes > 256) {
      printf("error: %d classes; this firmware prints at most 256\n", classes);
      return 1;
    }
#ifdef MAQD_FW_SYSTICK
    systick_start();
    const uint32_t start = systick_now();
#endif
    status = maqd_rt_core_run(core, test_images + (size_t)i * image_bytes, logits, message, sizeof message);
#ifdef MAQD_FW_SYSTICK
    const uint32_t ticks = (start - systick_now()) & 0xFFFFFFu;
#endif
    if (status != MAQD_RT_OK) {
      printf("error %d: %s\n", status, message);
      return 1;
    }
    int best = 0;
    for (int k = 1; k < classes; ++k)
      if (logits[k] > logits[best]) best = k;
    printf("image %d: class %d logits", i, best);
    for (int k = 0; k < classes; ++k) printf(" 0x%08lx", (unsigned long)float_bits(logits[k]));
#ifdef MAQD_FW_SYSTICK
    printf(" ticks %lu", (unsigned long)ticks);
#endif
    printf("\n");
  }
  size_t arena_used = 0;
  maqd_rt_core_arena_bytes(core, &arena_used);
  printf("arena %lu of %lu bytes; stack %lu bytes\n", (unsigned long)arena_used, (unsigned long)sizeof arena,
         (unsigned long)stack_used(bottom, top));
  return 0;
}
