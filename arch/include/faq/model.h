// The quantized network as every stage sees it: a list of layers in topological order, each producing one
// integer tensor of a stated shape, bit width, signedness and real scale; the integer parameters of each
// layer; the provenance of the model; and optional test vectors (the expected output of every layer for
// given inputs). The on-disk form is the .faq file (faq_file.h, docs/faq-format.md).
#pragma once

#include "faq/arithmetic.h"

#include <nlohmann/json.hpp>

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace faq {

enum class OpKind { Input, Conv2d, Linear, MaxPool, AvgPool, Add };

std::string_view to_string(OpKind op);
// nullopt-like: returns false when `name` is not an op.
bool parse_op(std::string_view name, OpKind& op);

// Channels, height, width of one image's tensor (batch is always 1 in the integer model).
struct Shape {
  std::int64_t c = 0;
  std::int64_t h = 0;
  std::int64_t w = 0;
  std::int64_t numel() const { return c * h * w; }
  bool operator==(const Shape&) const = default;
};
std::string to_string(const Shape& shape);

struct TensorType {
  Shape shape;
  int bits = 8;
  bool is_signed = true;  // unsigned = the layer ends in ReLU (saturation at 0 is the ReLU)
  double scale = 1.0;     // real value = integer * scale
  arith::Range range() const { return arith::activation_range(bits, is_signed); }
};

// An integer tensor of any rank, row-major.
struct IntTensor {
  std::vector<std::int64_t> shape;
  std::vector<std::int32_t> data;
  bool operator==(const IntTensor&) const = default;
};

struct Layer {
  std::string name;
  OpKind op = OpKind::Input;
  std::vector<int> inputs;  // indices of earlier layers
  TensorType out;

  // Window geometry: conv2d, maxpool, avgpool.
  int kernel_h = 1, kernel_w = 1;
  int stride_h = 1, stride_w = 1;
  int pad_h = 0, pad_w = 0;
  int groups = 1;  // conv2d

  // conv2d and linear.
  int weight_bits = 8;
  IntTensor weight;                    // conv2d [O, I/groups, kh, kw]; linear [O, I]
  std::vector<float> weight_scale;     // [O], real weight = integer * weight_scale[o]
  std::vector<std::int32_t> bias;      // [O], at scale input.scale * weight_scale[o]
  std::vector<arith::Requant> requant; // conv2d/linear: [O]; avgpool: [1] (the 1/window factor included)
  arith::AddRequant add;               // add

  bool has_weights() const { return op == OpKind::Conv2d || op == OpKind::Linear; }
  std::int64_t out_channels() const { return out.shape.c; }
};

// Expected per-layer outputs for one input (outputs[0] is the input image).
struct TestVector {
  std::vector<IntTensor> outputs;  // one per layer, shape [C, H, W]
};

struct Model {
  std::vector<Layer> layers;
  nlohmann::json provenance = nlohmann::json::object();
  std::vector<TestVector> test_vectors;

  // Index of the layer called `name`, or -1.
  int find(std::string_view name) const;
  const Layer& input() const { return layers.front(); }
  const Layer& output() const { return layers.back(); }

  // Checks the graph: one input layer first, inputs defined before use, known ops, window geometry,
  // every declared output shape equal to the inferred one, bit widths, parameter sizes and value ranges,
  // test vector shapes and ranges. Throws InputError "origin: layer 'x': problem".
  void validate(std::string_view origin) const;

  std::int64_t weight_count() const;  // conv and linear weights
  std::int64_t mac_count() const;     // conv and linear multiply-accumulates, one image
};

// Number of inputs an op takes (input 0, add 2, others 1).
std::size_t input_count(OpKind op);

// Output shape of `layer` given its inputs' shapes; throws InputError naming the layer when the geometry is
// impossible (window larger than the padded input, channels not divisible by groups, ...).
// `origin` (the file) starts the message.
Shape infer_shape(const Layer& layer, const std::vector<Shape>& input_shapes, std::string_view origin);

// Multiply-accumulates of one layer for one image.
std::int64_t layer_macs(const Layer& layer);

}  // namespace faq
