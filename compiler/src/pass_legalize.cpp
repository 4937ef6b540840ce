// Pass legalize: refuse, with the layer and the reason, what the configuration cannot run; on a configuration
// without a POOL unit, lower average pooling to a convolution (docs/compiler.md).
#include "passes.h"

#include "faq/error.h"

#include <cstdlib>

namespace faq::compiler {

namespace {

// A configuration with accumulators narrower than 32 bits may only run a layer that cannot overflow them.
void check_accumulator(const AcceleratorConfig& cfg, const Layer& L, const Layer& in) {
  if (cfg.acc_bits >= 32) return;
  const auto range = in.out.range();
  const std::int64_t max_in = std::max(-range.lo, range.hi);
  const std::int64_t per_channel = L.weight.data.empty() ? 0 : static_cast<std::int64_t>(L.weight.data.size()) / L.out.shape.c;
  for (std::int64_t o = 0; o < L.out.shape.c; ++o) {
    std::int64_t bound = std::abs(static_cast<std::int64_t>(L.bias[static_cast<std::size_t>(o)]));
    for (std::int64_t i = 0; i < per_channel; ++i)
      bound += std::abs(static_cast<std::int64_t>(L.weight.data[static_cast<std::size_t>(o * per_channel + i)])) * max_in;
    if (bound >= (std::int64_t{1} << (cfg.acc_bits - 1)))
      fail_input("channel {} may reach {}, beyond the {}-bit accumulator", o, bound, cfg.acc_bits);
  }
}

// Average pooling as a k x k convolution whose weights are the identity over channels (w[c][c] = 1, 2-bit), bias 0
// and the pooling's requantization on every channel: the sum of the window's taps inside the input, requantized,
// which is what POOL computes (padding taps add zeros either way).
void lower_average_pooling(Layer& L) {
  const std::int64_t c = L.out.shape.c, k = L.kernel_h;
  L.op = OpKind::Conv2d;
  L.groups = 1;
  L.weight_bits = 2;
  L.weight.shape = {c, c, k, k};
  L.weight.data.assign(static_cast<std::size_t>(c * c * k * k), 0);
  for (std::int64_t o = 0; o < c; ++o)
    for (std::int64_t t = 0; t < k * k; ++t) L.weight.data[static_cast<std::size_t>((o * c + o) * k * k + t)] = 1;
  L.weight_scale.assign(static_cast<std::size_t>(c), 1.0F);
  L.bias.assign(static_cast<std::size_t>(c), 0);
  L.requant.assign(static_cast<std::size_t>(c), L.requant.at(0));
}

void check_layer(const AcceleratorConfig& cfg, const Model& model, const Layer& L) {
  const bool square = L.kernel_w == L.kernel_h && L.stride_w == L.stride_h && L.pad_w == L.pad_h;
  switch (L.op) {
    case OpKind::Input:
    case OpKind::Add: return;
    case OpKind::MaxPool:
    case OpKind::AvgPool:
      if (!square) fail_input("non-square pooling windows are not supported");
      if (!cfg.pool_unit && L.op == OpKind::MaxPool)
        fail_input("max pooling needs the POOL unit, which configuration '{}' leaves out (field 'pool_unit')", cfg.name);
      return;
    case OpKind::Conv2d:
    case OpKind::Linear: break;
  }
  const Layer& in = model.layers[static_cast<std::size_t>(L.inputs[0])];
  if (L.op == OpKind::Linear && (in.out.shape.h != 1 || in.out.shape.w != 1))
    fail_input("a linear layer over a {}x{} input is not supported (flatten to 1x1 first)", in.out.shape.h, in.out.shape.w);
  if (L.op == OpKind::Conv2d && L.groups != 1) fail_input("grouped convolution (groups {}) is not supported", L.groups);
  if (L.op == OpKind::Conv2d && !square) fail_input("non-square kernels, strides or padding are not supported");
  const int in_lanes = lane_width(in.out.bits, {cfg.rows, cfg.cols});
  if (in_lanes > cfg.act_bits) fail_input("input is {}-bit, the array multiplies at most {}-bit activations", in.out.bits, cfg.act_bits);
  if (lane_width(L.weight_bits, {cfg.cols}) > cfg.weight_bits)
    fail_input("weights are {}-bit, the array multiplies at most {}-bit weights", L.weight_bits, cfg.weight_bits);
  check_accumulator(cfg, L, in);
}

}  // namespace

void legalize(Module& m) {
  for (Layer& L : m.model.layers) {
    try {
      check_layer(m.config, m.model, L);
      if (!m.config.pool_unit && L.op == OpKind::AvgPool) {
        lower_average_pooling(L);
        check_layer(m.config, m.model, L);
      }
    } catch (const InputError& e) {
      fail_input("layer '{}': {}", L.name, e.what());
    }
  }
}

}  // namespace faq::compiler
