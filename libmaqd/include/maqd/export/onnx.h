// ONNX export of a runtime model (maqd_rt::Model), written with Debian's
// ONNX library, so that onnxruntime, Netron or TensorRT open what maqd-rt
// runs. docs/format.md ("ONNX") lists the operators of each form.
//
// Every form takes the raw image as uint8 [N, C, H, W] ("image") and gives
// float logits [N, classes] ("logits"); the batch dimension is free.
#pragma once

#include <string>

#include "maqd_rt/model.hpp"

namespace maqd {

enum class OnnxForm {
  // Standard float operators that compute the runtime's activation codes
  // exactly: codes and integer sums held as float (exact below 2^24), each
  // threshold step of a requant compared in int64. Logits differ from the
  // runtime's only by float summation order.
  kExact,
  // int8 QDQ, the form onnxruntime runs with its int8 kernels: weights int8
  // with per-channel scales, activation codes uint8, each conv followed by
  // QuantizeLinear to the next layer's codes. The thresholds become one
  // uniform step per channel (scale and int32 bias of the conv), which is
  // where it can differ from the runtime: see docs/format.md.
  kInt8,
  // The float network of the same architecture (conv with bias, ReLU,
  // average pooling, the float head) with the model's weight codes as its
  // weights: what a float deployment of this network runs, for speed
  // comparisons; its outputs mean nothing.
  kFloatBaseline,
};

// "onnx" (kExact), "onnx-int8" (kInt8), "onnx-float-baseline".
const char* to_string(OnnxForm form);

// The serialized ONNX ModelProto (opset 13), checked with onnx::checker.
// Throws maqd::Error naming the op and the reason for a model the form
// cannot express (e.g. kInt8 and a residual sum).
std::string export_onnx(const maqd_rt::Model& model, OnnxForm form);

// export_onnx written to `path`; throws maqd::Error naming the path.
void save_onnx(const maqd_rt::Model& model, OnnxForm form, const std::string& path);

}  // namespace maqd
