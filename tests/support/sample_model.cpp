// Builds the sample network layer by layer. Each weighted layer's requantization multiplier is chosen from
// the layer's fan-in so that outputs spread over the output range instead of saturating: with uniform random
// weights and inputs, the accumulator's standard deviation is about sqrt(K) * E|a| * E|w|.
#include "sample_model.h"

#include "faq/arithmetic.h"
#include "faq/reference.h"

#include <cmath>
#include <random>

namespace faq::testing {

namespace {

class Builder {
 public:
  explicit Builder(std::uint64_t seed) : rng_(seed) {}

  Model model;

  int input(int channels, int size) {
    Layer layer;
    layer.name = "input";
    layer.op = OpKind::Input;
    layer.out = {{channels, size, size}, 8, true, 1.0 / 64};
    return push(std::move(layer));
  }

  int conv(const std::string& name, int from, int out_c, int kernel, int stride, int pad, int groups, int wbits,
           int out_bits, bool relu) {
    const TensorType& in = model.layers[static_cast<std::size_t>(from)].out;
    Layer layer;
    layer.name = name;
    layer.op = OpKind::Conv2d;
    layer.inputs = {from};
    layer.kernel_h = layer.kernel_w = kernel;
    layer.stride_h = layer.stride_w = stride;
    layer.pad_h = layer.pad_w = pad;
    layer.groups = groups;
    layer.weight_bits = wbits;
    const std::int64_t out_hw = (in.shape.h + 2 * pad - kernel) / stride + 1;
    layer.out = {{out_c, out_hw, out_hw}, out_bits, !relu, 1.0};
    layer.weight.shape = {out_c, in.shape.c / groups, kernel, kernel};
    fill_weighted(layer, in, in.shape.c / groups * kernel * kernel);
    return push(std::move(layer));
  }

  int linear(const std::string& name, int from, int out_features, int wbits, int out_bits) {
    const TensorType& in = model.layers[static_cast<std::size_t>(from)].out;
    Layer layer;
    layer.name = name;
    layer.op = OpKind::Linear;
    layer.inputs = {from};
    layer.weight_bits = wbits;
    layer.out = {{out_features, 1, 1}, out_bits, true, 1.0};
    layer.weight.shape = {out_features, in.shape.numel()};
    fill_weighted(layer, in, in.shape.numel());
    return push(std::move(layer));
  }

  int add(const std::string& name, int a, int b, int out_bits) {
    const TensorType& ta = model.layers[static_cast<std::size_t>(a)].out;
    const TensorType& tb = model.layers[static_cast<std::size_t>(b)].out;
    Layer layer;
    layer.name = name;
    layer.op = OpKind::Add;
    layer.inputs = {a, b};
    layer.out = {ta.shape, out_bits, false, std::max(ta.scale * static_cast<double>(ta.range().hi), tb.scale * static_cast<double>(tb.range().hi)) /
                                               static_cast<double>(arith::activation_range(out_bits, false).hi)};
    layer.add = arith::quantize_add_multipliers(ta.scale, tb.scale, layer.out.scale);
    return push(std::move(layer));
  }

  int pool(const std::string& name, int from, OpKind op, int kernel, int stride, int pad) {
    const TensorType& in = model.layers[static_cast<std::size_t>(from)].out;
    Layer layer;
    layer.name = name;
    layer.op = op;
    layer.inputs = {from};
    layer.kernel_h = layer.kernel_w = kernel;
    layer.stride_h = layer.stride_w = stride;
    layer.pad_h = layer.pad_w = pad;
    const std::int64_t out_hw = (in.shape.h + 2 * pad - kernel) / stride + 1;
    layer.out = in;
    layer.out.shape = {in.shape.c, out_hw, out_hw};
    if (op == OpKind::AvgPool) layer.requant = {arith::quantize_multiplier(1.0 / (kernel * kernel))};
    return push(std::move(layer));
  }

 private:
  int push(Layer layer) {
    model.layers.push_back(std::move(layer));
    return static_cast<int>(model.layers.size()) - 1;
  }

  void fill_weighted(Layer& layer, const TensorType& in, std::int64_t fan_in) {
    const auto wrange = arith::weight_range(layer.weight_bits);
    std::uniform_int_distribution<std::int64_t> weight(wrange.lo, wrange.hi);
    std::int64_t numel = 1;
    for (auto d : layer.weight.shape) numel *= d;
    for (std::int64_t i = 0; i < numel; ++i) layer.weight.data.push_back(static_cast<std::int32_t>(weight(rng_)));
    const double mean_abs_w = static_cast<double>(wrange.hi) / 2;
    const double mean_abs_a = static_cast<double>(in.range().hi) / 2;
    const double acc_std = std::sqrt(static_cast<double>(fan_in)) * mean_abs_w * mean_abs_a;
    const double out_hi = static_cast<double>(layer.out.range().hi);
    const double real_multiplier = out_hi / (2.5 * acc_std);
    std::uniform_int_distribution<std::int32_t> bias(-static_cast<std::int32_t>(acc_std), static_cast<std::int32_t>(acc_std));
    const double weight_scale = 1.0 / static_cast<double>(wrange.hi);
    layer.out.scale = in.scale * weight_scale / real_multiplier;
    for (std::int64_t o = 0; o < layer.out.shape.c; ++o) {
      layer.bias.push_back(bias(rng_));
      layer.weight_scale.push_back(static_cast<float>(weight_scale));
      layer.requant.push_back(arith::quantize_multiplier(real_multiplier));
    }
  }

  std::mt19937_64 rng_;
};

}  // namespace

Model make_sample_model(const SampleOptions& options) {
  Builder b(options.seed);
  const int in = b.input(1, options.size);
  const int conv1 = b.conv("conv1", in, 8, 3, 1, 1, 1, 8, options.act_bits, true);
  const int conv2 = b.conv("conv2", conv1, 8, 3, 1, 1, 1, options.weight_bits, 8, false);
  const int add = b.add("add1", conv2, conv1, options.act_bits);
  const int pool = b.pool("pool", add, OpKind::MaxPool, 2, 2, 0);
  const int conv3 = b.conv("conv3", pool, 16, 3, 2, 1, 2, options.weight_bits, options.act_bits, true);
  const auto& c3 = b.model.layers[static_cast<std::size_t>(conv3)].out.shape;
  const int gap = b.pool("gap", conv3, OpKind::AvgPool, static_cast<int>(c3.h), 1, 0);
  b.linear("fc", gap, 10, 8, 16);
  Model model = std::move(b.model);
  model.provenance = {{"dataset", "synthetic"}, {"recipe", "random integer weights (tests/support/sample_model.cpp)"},
                      {"seed", options.seed},  {"trained", false}};
  for (int t = 0; t < options.test_vectors; ++t)
    model.test_vectors.push_back({run_reference(model, random_input(model, options.seed * 1000 + static_cast<std::uint64_t>(t)))});
  return model;
}

IntTensor random_input(const Model& model, std::uint64_t seed) {
  std::mt19937_64 rng(seed);
  const TensorType& t = model.input().out;
  std::uniform_int_distribution<std::int64_t> value(t.range().lo, t.range().hi);
  IntTensor input{{t.shape.c, t.shape.h, t.shape.w}, {}};
  for (std::int64_t i = 0; i < t.shape.numel(); ++i) input.data.push_back(static_cast<std::int32_t>(value(rng)));
  return input;
}

}  // namespace faq::testing
