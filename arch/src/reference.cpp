// The reference integer interpreter. Direct loops over docs/arithmetic.md, written for clarity first:
// products are summed exactly in int64 and the sum (plus bias) is wrapped to 32 bits, which equals 32-bit
// modular accumulation in any order. Padding positions contribute zero to convolutions and average pools
// and are skipped by max pools.
#include "faq/reference.h"

#include "faq/error.h"

#include <fmt/format.h>

#include <algorithm>
#include <limits>

namespace faq {

namespace {

constexpr int kAccumulatorBits = 32;

IntTensor make_output(const Layer& layer) {
  const Shape& s = layer.out.shape;
  return {{s.c, s.h, s.w}, std::vector<std::int32_t>(static_cast<std::size_t>(s.numel()), 0)};
}

std::int32_t at(const IntTensor& t, std::int64_t c, std::int64_t y, std::int64_t x) {
  return t.data[static_cast<std::size_t>((c * t.shape[1] + y) * t.shape[2] + x)];
}

std::int32_t to_int32(std::int64_t v) { return static_cast<std::int32_t>(v); }

IntTensor conv2d(const Layer& layer, const IntTensor& in) {
  IntTensor out = make_output(layer);
  const std::int64_t in_h = in.shape[1], in_w = in.shape[2];
  const std::int64_t group_in = layer.weight.shape[1];
  const std::int64_t group_out = layer.out.shape.c / layer.groups;
  const auto range = layer.out.range();
  std::size_t o_index = 0;
  for (std::int64_t o = 0; o < layer.out.shape.c; ++o) {
    const std::int64_t c0 = (o / group_out) * group_in;
    const auto& q = layer.requant[static_cast<std::size_t>(o)];
    for (std::int64_t oy = 0; oy < layer.out.shape.h; ++oy) {
      for (std::int64_t ox = 0; ox < layer.out.shape.w; ++ox) {
        std::int64_t sum = 0;
        for (std::int64_t ci = 0; ci < group_in; ++ci) {
          for (int ky = 0; ky < layer.kernel_h; ++ky) {
            const std::int64_t y = oy * layer.stride_h - layer.pad_h + ky;
            if (y < 0 || y >= in_h) continue;
            for (int kx = 0; kx < layer.kernel_w; ++kx) {
              const std::int64_t x = ox * layer.stride_w - layer.pad_w + kx;
              if (x < 0 || x >= in_w) continue;
              const auto w = layer.weight.data[static_cast<std::size_t>(((o * group_in + ci) * layer.kernel_h + ky) *
                                                                            layer.kernel_w + kx)];
              sum += std::int64_t{at(in, c0 + ci, y, x)} * w;
            }
          }
        }
        const std::int64_t acc = arith::wrap(arith::wrap(sum, kAccumulatorBits) + layer.bias[static_cast<std::size_t>(o)],
                                             kAccumulatorBits);
        out.data[o_index++] = to_int32(arith::requantize(to_int32(acc), q, range));
      }
    }
  }
  return out;
}

IntTensor linear(const Layer& layer, const IntTensor& in) {
  IntTensor out = make_output(layer);
  const std::int64_t features = layer.weight.shape[1];
  const auto range = layer.out.range();
  for (std::int64_t o = 0; o < layer.out.shape.c; ++o) {
    std::int64_t sum = 0;
    for (std::int64_t i = 0; i < features; ++i)
      sum += std::int64_t{in.data[static_cast<std::size_t>(i)]} *
             layer.weight.data[static_cast<std::size_t>(o * features + i)];
    const std::int64_t acc =
        arith::wrap(arith::wrap(sum, kAccumulatorBits) + layer.bias[static_cast<std::size_t>(o)], kAccumulatorBits);
    out.data[static_cast<std::size_t>(o)] =
        to_int32(arith::requantize(to_int32(acc), layer.requant[static_cast<std::size_t>(o)], range));
  }
  return out;
}

IntTensor pool(const Layer& layer, const IntTensor& in) {
  IntTensor out = make_output(layer);
  const std::int64_t in_h = in.shape[1], in_w = in.shape[2];
  const bool is_max = layer.op == OpKind::MaxPool;
  const auto range = layer.out.range();
  std::size_t index = 0;
  for (std::int64_t c = 0; c < layer.out.shape.c; ++c) {
    for (std::int64_t oy = 0; oy < layer.out.shape.h; ++oy) {
      for (std::int64_t ox = 0; ox < layer.out.shape.w; ++ox) {
        std::int64_t value = is_max ? std::numeric_limits<std::int64_t>::min() : 0;
        for (int ky = 0; ky < layer.kernel_h; ++ky) {
          const std::int64_t y = oy * layer.stride_h - layer.pad_h + ky;
          if (y < 0 || y >= in_h) continue;
          for (int kx = 0; kx < layer.kernel_w; ++kx) {
            const std::int64_t x = ox * layer.stride_w - layer.pad_w + kx;
            if (x < 0 || x >= in_w) continue;
            const std::int64_t v = at(in, c, y, x);
            value = is_max ? std::max(value, v) : value + v;
          }
        }
        out.data[index++] = is_max ? to_int32(value)
                                   : to_int32(arith::requantize(to_int32(value), layer.requant[0], range));
      }
    }
  }
  return out;
}

IntTensor add(const Layer& layer, const IntTensor& a, const IntTensor& b) {
  IntTensor out = make_output(layer);
  const auto range = layer.out.range();
  for (std::size_t i = 0; i < out.data.size(); ++i)
    out.data[i] = to_int32(arith::add_requantize(a.data[i], b.data[i], layer.add, range));
  return out;
}

}  // namespace

IntTensor run_layer(const Layer& layer, const std::vector<const IntTensor*>& inputs) {
  switch (layer.op) {
    case OpKind::Input: return *inputs.at(0);
    case OpKind::Conv2d: return conv2d(layer, *inputs.at(0));
    case OpKind::Linear: return linear(layer, *inputs.at(0));
    case OpKind::MaxPool:
    case OpKind::AvgPool: return pool(layer, *inputs.at(0));
    case OpKind::Add: return add(layer, *inputs.at(0), *inputs.at(1));
  }
  throw std::logic_error("run_layer: unknown op");
}

std::vector<IntTensor> run_reference(const Model& model, const IntTensor& input) {
  const Layer& in_layer = model.input();
  const Shape& s = in_layer.out.shape;
  if (input.shape != std::vector<std::int64_t>{s.c, s.h, s.w} ||
      static_cast<std::int64_t>(input.data.size()) != s.numel())
    fail_input("input: expected shape {}", to_string(s));
  const auto range = in_layer.out.range();
  for (std::size_t i = 0; i < input.data.size(); ++i)
    if (!range.contains(input.data[i]))
      fail_input("input: element {} is {}, outside [{}, {}]", i, input.data[i], range.lo, range.hi);

  std::vector<IntTensor> outputs;
  outputs.reserve(model.layers.size());
  outputs.push_back(input);
  for (std::size_t l = 1; l < model.layers.size(); ++l) {
    const Layer& layer = model.layers[l];
    std::vector<const IntTensor*> inputs;
    for (int i : layer.inputs) inputs.push_back(&outputs[static_cast<std::size_t>(i)]);
    outputs.push_back(run_layer(layer, inputs));
  }
  return outputs;
}

std::string first_mismatch(const Model& model, const std::vector<IntTensor>& expected,
                           const std::vector<IntTensor>& actual) {
  for (std::size_t l = 0; l < model.layers.size(); ++l) {
    const std::string& name = model.layers[l].name;
    if (l >= expected.size() || l >= actual.size()) return fmt::format("layer '{}': output missing", name);
    if (expected[l].shape != actual[l].shape) return fmt::format("layer '{}': shapes differ", name);
    for (std::size_t e = 0; e < expected[l].data.size(); ++e)
      if (expected[l].data[e] != actual[l].data[e])
        return fmt::format("layer '{}' element {}: expected {}, got {}", name, e, expected[l].data[e], actual[l].data[e]);
  }
  return {};
}

}  // namespace faq
