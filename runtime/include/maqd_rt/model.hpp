// The in-memory form of a .maqd model file: an integer-only graph that
// `maqd export` writes and the runtime loads, checks and runs.
//
// A model is a list of tensors (per-image feature maps in NHWC order) and a
// list of ops run in order. Tensor 0 is the input: the raw 8-bit image. Every
// other tensor is written by exactly one op, before any op reads it. The
// last op is the output layer and writes float logits.
//
// The maths (docs/format.md has the bytes, docs/method.md §9 the folding):
//   kInputLut   out[h,w,c] = lut[c][in[h,w,c]]            u8 → u8 or i16
//   kConv       out[h,w,o] = Σ_{i,dy,dx} w[o][dy][dx][i] · in[h+dy−p, w+dx−p, i]
//               (zero outside the map, p = kernel/2, stride 1)  u8|i16 → i32
//   kPoolSum    out[h,w,c] = Σ of the 2×2 window at (2h, 2w), floor sizes
//               u8 → i16, i16 → i32, i32 → i32
//   kRequant    Z = Σ_j multipliers[j][c] · in_j[h,w,c]   (int64, 1 or 2 inputs)
//               out[h,w,c] = #{k : Z ≥ thresholds[c][k]}  → u8 codes 0..levels−1
//   kGapLinear  f[c] = Σ_j scale[j][c] · (Σ_{h,w} in_j[h,w,c]) + offset[c]
//               logits[k] = bias[k] + Σ_c weight[k][c] · f[c]     → f32
//               (the float output layer; the only float arithmetic)
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "maqd_rt/core/graph.h"  // ValueRange
#include "maqd_rt/core/types.h"

namespace maqd_rt {

// Bytes per element of a dtype.
size_t dtype_size(DType dtype);

// One image's feature map: [height][width][channels], channels fastest.
struct TensorDesc {
  DType dtype = DType::kU8;
  int32_t height = 0, width = 0, channels = 0;
  int64_t elements() const { return int64_t(height) * width * channels; }
};

struct Op {
  OpKind kind = OpKind::kConv;
  std::string name;             // the training network's layer, e.g. "conv3"
  std::vector<int32_t> inputs;  // tensor indices
  int32_t output = 0;           // tensor index

  // kInputLut: [channels][256], values in the output dtype's range.
  std::vector<int32_t> lut;

  // kConv: codes [out_channels][kernel][kernel][in_channels]. weight_bits
  // (2, 4 or 8) is how they are packed in the file; every code fits in it
  // as a two's complement integer.
  int32_t kernel = 0;
  int32_t weight_bits = 0;
  std::vector<int8_t> weights;

  // kRequant: multipliers [inputs][channels], thresholds
  // [channels][levels − 1], each channel's row nondecreasing.
  int32_t levels = 0;
  std::vector<int64_t> multipliers;
  std::vector<int64_t> thresholds;

  // kGapLinear: scale [inputs][channels], offset [channels],
  // weight [classes][channels], bias [classes]; the output tensor is
  // f32 [1][1][classes].
  std::vector<float> scale, offset, weight, bias;
};

struct Model {
  uint32_t version = 1;  // of the file format it was read from or is written as
  // Typed metadata: arch, mw, ma, delta_w, norm, dataset, class count, ...
  std::map<std::string, std::string> text;
  std::map<std::string, int64_t> integers;
  std::vector<TensorDesc> tensors;  // tensors[0]: the u8 input image
  std::vector<Op> ops;              // the last: kGapLinear, the logits

  const TensorDesc& input() const { return tensors.at(0); }
  int32_t num_classes() const;  // channels of the last op's output
  // The classes' names by label, from text "class_names" (one per line, as
  // `maqd export` records the data set's), as the file holds them (the
  // texts below show control bytes as \xNN); empty when the file has none
  // or not exactly one per class.
  std::vector<std::string> class_names() const;
  // How programs print a prediction: "7 (Sneaker)", or "7" without names.
  std::string class_label(size_t label) const;
  // How programs print one image's logits (num_classes of them): with top
  // 0 its class, "7 (Sneaker)"; else its `top` most probable classes, each
  // with its softmax probability: "7 (Sneaker) 0.912, 5 (Sandal) 0.061".
  // Throws maqd_rt::Error for top > num_classes().
  std::string prediction_text(const float* logits, size_t top = 0) const;
};

// One class of an image's prediction and the probability softmax gives it.
struct ClassProbability {
  size_t label;
  double probability;
};
// The `k` (≤ classes) highest of `classes` logits, highest first, ties by
// the lower label (the first maximum is the argmax), NaN last, with their
// softmax probabilities (infinite highest logits share 1; NaN's is NaN).
// Throws maqd_rt::Error for k > classes.
std::vector<ClassProbability> top_classes(const float* logits, size_t classes, size_t k);
// top_classes' first label without its allocation (the C API's classify):
// the highest logit, the lower label on ties, NaN only if every logit is.
// `classes` ≥ 1.
size_t predicted_class(const float* logits, size_t classes) noexcept;

// Throws maqd_rt::Error naming the op, the field and what was expected when
// the graph breaks a rule above (dtypes, shapes, sizes, order, ranges): the
// core's check_graph (maqd_rt/core/graph.h), the same rules in the same
// words, plus the Model's own rule that an op leaves the fields its kind
// does not use empty.
// Returns each tensor's ValueRange: the engine picks its kernels from them,
// so the bounds that make the arithmetic safe are computed in one place.
std::vector<ValueRange> validate(const Model& model);

}  // namespace maqd_rt
