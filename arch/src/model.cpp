// The layer graph: op names, shape inference, validation and the MAC / weight counts.
// Shape rules follow PyTorch (floor mode): out = (in + 2 * pad - kernel) / stride + 1.
#include "faq/model.h"

#include "faq/error.h"

#include <fmt/format.h>

#include <array>
#include <cmath>
#include <unordered_set>

namespace faq {

namespace {

constexpr std::array<std::pair<OpKind, std::string_view>, 6> kOpNames = {{{OpKind::Input, "input"},
                                                                          {OpKind::Conv2d, "conv2d"},
                                                                          {OpKind::Linear, "linear"},
                                                                          {OpKind::MaxPool, "maxpool"},
                                                                          {OpKind::AvgPool, "avgpool"},
                                                                          {OpKind::Add, "add"}}};

std::int64_t window_out(std::int64_t in, int kernel, int stride, int pad) {
  return (in + 2 * std::int64_t{pad} - kernel) / stride + 1;
}

}  // namespace

std::size_t input_count(OpKind op) {
  switch (op) {
    case OpKind::Input: return 0;
    case OpKind::Add: return 2;
    default: return 1;
  }
}

std::string_view to_string(OpKind op) {
  for (const auto& [kind, name] : kOpNames)
    if (kind == op) return name;
  return "?";
}

bool parse_op(std::string_view name, OpKind& op) {
  for (const auto& [kind, text] : kOpNames) {
    if (text == name) {
      op = kind;
      return true;
    }
  }
  return false;
}

std::string to_string(const Shape& shape) { return fmt::format("[{}, {}, {}]", shape.c, shape.h, shape.w); }

Shape infer_shape(const Layer& layer, const std::vector<Shape>& in, std::string_view origin) {
  auto bad = [&](const std::string& problem) -> Shape { fail_input("{}: layer '{}': {}", origin, layer.name, problem); };
  auto windowed = [&](std::int64_t channels) -> Shape {
    if (layer.kernel_h < 1 || layer.kernel_w < 1 || layer.kernel_h > 64 || layer.kernel_w > 64)
      return bad(fmt::format("kernel {}x{} is outside [1, 64]", layer.kernel_h, layer.kernel_w));
    if (layer.stride_h < 1 || layer.stride_w < 1 || layer.stride_h > 64 || layer.stride_w > 64)
      return bad(fmt::format("stride {}x{} is outside [1, 64]", layer.stride_h, layer.stride_w));
    if (layer.pad_h < 0 || layer.pad_w < 0 || layer.pad_h >= layer.kernel_h || layer.pad_w >= layer.kernel_w)
      return bad(fmt::format("padding {}x{} must be non-negative and smaller than the kernel", layer.pad_h, layer.pad_w));
    const Shape out{channels, window_out(in[0].h, layer.kernel_h, layer.stride_h, layer.pad_h),
                    window_out(in[0].w, layer.kernel_w, layer.stride_w, layer.pad_w)};
    if (out.h < 1 || out.w < 1)
      return bad(fmt::format("kernel {}x{} does not fit the padded input {}", layer.kernel_h, layer.kernel_w,
                             to_string(in[0])));
    return out;
  };
  switch (layer.op) {
    case OpKind::Input: return layer.out.shape;
    case OpKind::Conv2d:
      if (layer.groups < 1 || in[0].c % layer.groups != 0 || layer.out.shape.c % layer.groups != 0)
        return bad(fmt::format("groups {} does not divide input channels {} and output channels {}", layer.groups,
                               in[0].c, layer.out.shape.c));
      return windowed(layer.out.shape.c);
    case OpKind::Linear: return {layer.out.shape.c, 1, 1};
    case OpKind::MaxPool:
    case OpKind::AvgPool: return windowed(in[0].c);
    case OpKind::Add:
      if (!(in[0] == in[1]))
        return bad(fmt::format("inputs have different shapes {} and {}", to_string(in[0]), to_string(in[1])));
      return in[0];
  }
  return bad("unknown op");
}

std::int64_t layer_macs(const Layer& layer) {
  if (layer.op == OpKind::Conv2d) {
    return layer.out.shape.numel() * layer.weight.shape[1] * layer.kernel_h * layer.kernel_w;
  }
  if (layer.op == OpKind::Linear) return layer.out.shape.c * layer.weight.shape[1];
  return 0;
}

int Model::find(std::string_view name) const {
  for (std::size_t i = 0; i < layers.size(); ++i)
    if (layers[i].name == name) return static_cast<int>(i);
  return -1;
}

std::int64_t Model::weight_count() const {
  std::int64_t total = 0;
  for (const auto& layer : layers)
    if (layer.has_weights()) total += static_cast<std::int64_t>(layer.weight.data.size());
  return total;
}

std::int64_t Model::mac_count() const {
  std::int64_t total = 0;
  for (const auto& layer : layers) total += layer_macs(layer);
  return total;
}

void Model::validate(std::string_view origin) const {
  auto bad = [&](const Layer& layer, const std::string& problem) {
    fail_input("{}: layer '{}': {}", origin, layer.name, problem);
  };
  if (layers.empty()) fail_input("{}: the model has no layers", origin);
  if (layers.front().op != OpKind::Input) fail_input("{}: the first layer must be the input", origin);
  std::unordered_set<std::string_view> names;
  for (std::size_t index = 0; index < layers.size(); ++index) {
    const Layer& layer = layers[index];
    if (layer.name.empty()) fail_input("{}: layer {} has no name", origin, index);
    if (!names.insert(layer.name).second) bad(layer, "name is used twice");
    if (index > 0 && layer.op == OpKind::Input) bad(layer, "only the first layer may be an input");
    if (layer.inputs.size() != input_count(layer.op))
      bad(layer, fmt::format("{} takes {} inputs, got {}", to_string(layer.op), input_count(layer.op),
                             layer.inputs.size()));
    std::vector<Shape> in_shapes;
    for (int input : layer.inputs) {
      if (input < 0 || static_cast<std::size_t>(input) >= index)
        bad(layer, "an input is not an earlier layer (the graph must be acyclic and in topological order)");
      in_shapes.push_back(layers[static_cast<std::size_t>(input)].out.shape);
    }
    const TensorType& out = layer.out;
    if (out.bits < arith::kMinBits || out.bits > 16)
      bad(layer, fmt::format("output bits {} outside [2, 16]", out.bits));
    if (!std::isfinite(out.scale) || out.scale <= 0) bad(layer, fmt::format("scale {} is not positive", out.scale));
    if (out.shape.c < 1 || out.shape.h < 1 || out.shape.w < 1 || out.shape.c > (1 << 20) || out.shape.h > (1 << 16) ||
        out.shape.w > (1 << 16))
      bad(layer, fmt::format("shape {} is outside [1..2^20, 1..2^16, 1..2^16]", to_string(out.shape)));
    const Shape inferred = infer_shape(layer, in_shapes, origin);
    if (!(inferred == out.shape))
      bad(layer, fmt::format("declared shape {} but the inputs give {}", to_string(out.shape), to_string(inferred)));

    if (layer.op == OpKind::MaxPool) {
      const TensorType& src = layers[static_cast<std::size_t>(layer.inputs[0])].out;
      if (src.bits != out.bits || src.is_signed != out.is_signed || src.scale != out.scale)
        bad(layer, "maxpool output must have its input's bits, signedness and scale");
    }
    if (layer.op == OpKind::AvgPool && layer.requant.size() != 1)
      bad(layer, "avgpool needs exactly one requantization (multiplier, shift)");
    if (layer.has_weights()) {
      const std::int64_t in_channels = layer.op == OpKind::Conv2d ? in_shapes[0].c / layer.groups : in_shapes[0].numel();
      const std::vector<std::int64_t> weight_shape =
          layer.op == OpKind::Conv2d
              ? std::vector<std::int64_t>{out.shape.c, in_channels, layer.kernel_h, layer.kernel_w}
              : std::vector<std::int64_t>{out.shape.c, in_channels};
      if (layer.weight_bits < arith::kMinBits || layer.weight_bits > arith::kMaxWeightBits)
        bad(layer, fmt::format("weight bits {} outside [2, 16]", layer.weight_bits));
      if (layer.weight.shape != weight_shape) bad(layer, "weight tensor shape does not match the layer");
      std::int64_t numel = 1;
      for (auto d : weight_shape) numel *= d;
      if (static_cast<std::int64_t>(layer.weight.data.size()) != numel) bad(layer, "weight data size mismatch");
      const auto range = arith::weight_range(layer.weight_bits);
      for (std::size_t i = 0; i < layer.weight.data.size(); ++i)
        if (!range.contains(layer.weight.data[i]))
          bad(layer, fmt::format("weight element {} is {}, outside the {}-bit weight range [{}, {}]", i,
                                 layer.weight.data[i], layer.weight_bits, range.lo, range.hi));
      const auto channels = static_cast<std::size_t>(out.shape.c);
      if (layer.bias.size() != channels || layer.requant.size() != channels || layer.weight_scale.size() != channels)
        bad(layer, fmt::format("bias, requantization and weight scales need {} entries each", channels));
      for (float s : layer.weight_scale)
        if (!std::isfinite(s) || s <= 0) bad(layer, fmt::format("weight scale {} is not positive", s));
    }
    for (const auto& q : layer.requant)
      if (q.multiplier < 0 || q.shift < 0 || q.shift > arith::kMaxShift)
        bad(layer, fmt::format("requantization ({}, {}) outside multiplier [0, 2^31-1], shift [0, 63]", q.multiplier,
                               q.shift));
    if (layer.op == OpKind::Add && (layer.add.multiplier_a < 0 || layer.add.multiplier_b < 0 || layer.add.shift < 0 ||
                                    layer.add.shift > arith::kMaxShift))
      bad(layer, "residual multipliers must be non-negative and the shift in [0, 63]");
  }
  for (std::size_t t = 0; t < test_vectors.size(); ++t) {
    const auto& outputs = test_vectors[t].outputs;
    if (outputs.size() != layers.size())
      fail_input("{}: test vector {} has {} outputs for {} layers", origin, t, outputs.size(), layers.size());
    for (std::size_t i = 0; i < layers.size(); ++i) {
      const Layer& layer = layers[i];
      const Shape& s = layer.out.shape;
      if (outputs[i].shape != std::vector<std::int64_t>{s.c, s.h, s.w} ||
          static_cast<std::int64_t>(outputs[i].data.size()) != s.numel())
        bad(layer, fmt::format("test vector {} has the wrong shape", t));
      const auto range = layer.out.range();
      for (std::size_t e = 0; e < outputs[i].data.size(); ++e)
        if (!range.contains(outputs[i].data[e]))
          bad(layer, fmt::format("test vector {} element {} is {}, outside [{}, {}]", t, e, outputs[i].data[e],
                                 range.lo, range.hi));
    }
  }
}

}  // namespace faq
