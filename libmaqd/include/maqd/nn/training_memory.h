// How many bytes of tensors one training step of a network adds, counted from
// its definition: what each layer saves for backward (by normalization, with
// or without WS and quantizers), and the peak of a simulated step, forward
// then backward, in which each tensor lives exactly as long as maqd's ops
// and LibTorch's autograd keep it. The parameters, their gradients and the
// optimizer's momentum live across steps and are given apart.
//
// It follows maqd's own ops (train mode on CPU): LBN and BN run fused with
// the activation (ops/norm_activation.h) and save the conv output; LN runs
// as LibTorch's layer_norm and its output is saved again by a quantizer; the
// conv saves its input and the quantized weight; WS saves the standardized
// weight; a conv's backward reorders its output gradient and input (oneDNN's
// blocked layouts). Other kernels' scratch is not counted: the comparison
// with the measured peak (train/tensor_memory.h, tests/train/
// training_memory_test.cpp) says how much it adds.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "maqd/nn/network.h"

namespace maqd {

struct LayerTrainingMemory {
  std::string name;           // as LayerInfo::name: "conv3", "pool1", "block2", "output"
  int64_t saved_bytes = 0;    // tensors this layer creates that backward keeps
  int64_t saved_batch_bytes = 0;   // the part proportional to the batch
};

struct TrainingMemoryCount {
  int64_t batch = 0;
  std::vector<LayerTrainingMemory> layers;
  int64_t saved_bytes = 0;      // Σ layers: what the step keeps at the end of forward
  int64_t peak_bytes = 0;       // the simulated step's peak above what lived before it
  std::string peak_at;          // where: "forward", or the layer whose backward peaks
  int64_t parameter_bytes = 0;  // parameters; gradients and momentum as much again each
};

// The count for `network` (its options and layer shapes) at `batch` images.
// Throws maqd::Error for batch < 1.
TrainingMemoryCount count_training_memory(const Network& network, int64_t batch);

}  // namespace maqd
