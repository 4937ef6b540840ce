// Precision plan, calibration, export and the LibTorch integer network. The integer network performs
// exactly the operations of docs/arithmetic.md: convolutions in float64 on integer values (every partial
// sum is below 2^53, so float64 is exact), then int64 tensor arithmetic for wrap, bias, requantization and
// saturation. Export derives every integer from the float parameters in double precision through
// faq::arith, the same functions every other stage uses.
#include "quant.h"

#include "faq/arithmetic.h"
#include "faq/error.h"
#include "faq/reference.h"

#include <ATen/CPUGeneratorImpl.h>
#include <fmt/format.h>

#include <cmath>

namespace faq::golden {

namespace {

bool is_first_conv(const NetImpl& net, std::size_t i) {
  const Node& node = net.nodes()[i];
  return node.op == OpKind::Conv2d && node.inputs.size() == 1 && node.inputs[0] == 0;
}

bool is_last(const NetImpl& net, std::size_t i) { return i + 1 == net.nodes().size(); }

torch::Tensor wrap32(const torch::Tensor& v) {
  constexpr std::int64_t two31 = std::int64_t{1} << 31;
  return torch::bitwise_and(v + two31, (std::int64_t{1} << 32) - 1) - two31;
}

}  // namespace

void apply_precision(NetImpl& net, const PrecisionPlan& plan) {
  auto& nodes = net.nodes();
  const std::size_t n = nodes.size();
  std::vector<std::vector<std::size_t>> consumers(n);
  for (std::size_t i = 0; i < n; ++i)
    for (int input : nodes[i].inputs) consumers[static_cast<std::size_t>(input)].push_back(i);
  auto input_bits = [&](std::size_t consumer) {
    return is_first_conv(net, consumer) || is_last(net, consumer) ? plan.first_last_bits : plan.act_bits;
  };
  auto& tq = net.tensor_quant();
  for (std::size_t k = n; k-- > 0;) {
    const Node& node = nodes[k];
    TensorQuant& q = tq[k];
    if (node.has_weights()) net.weight_bits()[k] = is_first_conv(net, k) || is_last(net, k) ? plan.first_last_bits : plan.weight_bits;
    if (is_last(net, k)) {
      q.bits = plan.logits_bits;
      q.is_signed = true;
      continue;
    }
    // The narrowest width any array consumer needs; max pools pass their consumers' need through.
    int bits = 0;
    for (std::size_t c : consumers[k]) {
      int need = 0;
      if (nodes[c].has_weights()) need = input_bits(c);
      else if (nodes[c].op == OpKind::MaxPool) need = tq[c].bits;
      if (need > 0) bits = bits == 0 ? need : std::min(bits, need);
    }
    q.bits = bits == 0 ? plan.internal_bits : bits;
  }
  // Signedness flows forward: ReLU outputs are unsigned, pools keep their input's.
  for (std::size_t k = 0; k + 1 < n; ++k) {
    const Node& node = nodes[k];
    switch (node.op) {
      case OpKind::Input: tq[k].is_signed = true; break;
      case OpKind::MaxPool:
      case OpKind::AvgPool: tq[k].is_signed = tq[static_cast<std::size_t>(node.inputs[0])].is_signed; break;
      default: tq[k].is_signed = !node.relu; break;
    }
  }
  // A max pool keeps its input's format: the tensor feeding it takes the pool's width.
  for (std::size_t k = 0; k < n; ++k)
    if (nodes[k].op == OpKind::MaxPool) tq[static_cast<std::size_t>(nodes[k].inputs[0])].bits = tq[k].bits;
}

void calibrate(NetImpl& net, const std::function<torch::Tensor()>& next_batch, int batches, double percentile, Distributed* dist) {
  if (!net.folded()) throw std::logic_error("calibrate needs folded BatchNorm");
  if (batches < 1) fail_input("calibration needs at least one batch");
  if (!(percentile > 0 && percentile <= 100)) fail_input("calibration percentile {} is outside (0, 100]", percentile);
  torch::NoGradGuard no_grad;
  const Mode previous = net.mode();
  net.set_mode(Mode::Float);
  const auto& nodes = net.nodes();
  auto& tq = net.tensor_quant();
  const bool shared = dist != nullptr && dist->enabled();
  const int world = shared ? dist->world() : 1, rank = shared ? dist->rank() : 0;
  // per batch and tensor: the percentile of that batch's values (rows of other ranks' batches stay 0)
  auto per_batch = torch::zeros({batches, static_cast<std::int64_t>(nodes.size())}, torch::kFloat64);
  auto rows = per_batch.accessor<double, 2>();
  for (int b = 0; b < batches; ++b) {
    const auto batch = next_batch();
    if (b % world != rank) continue;
    const auto outputs = net.forward_all(batch);
    for (std::size_t i = 0; i < nodes.size(); ++i) {
      auto values = tq[i].is_signed ? outputs[i].abs() : outputs[i].clamp_min(0);
      values = values.flatten().to(torch::kFloat32);
      constexpr std::int64_t kSample = 1 << 20;
      if (values.numel() > kSample) {  // a sample drawn from a generator of its own: the same on every rank
        auto generator = at::detail::createCPUGenerator(std::uint64_t{1000003} * static_cast<std::uint64_t>(b) + i);
        const auto picks = torch::randint(values.numel(), {kSample}, generator, torch::TensorOptions().dtype(torch::kLong));
        values = values.index_select(0, picks.to(values.device()));
      }
      const auto k = std::max<std::int64_t>(1, static_cast<std::int64_t>(std::ceil(percentile / 100.0 * static_cast<double>(values.numel()))));
      rows[b][static_cast<std::int64_t>(i)] = std::get<0>(values.kthvalue(std::min(k, values.numel()))).item<double>();
    }
  }
  if (shared) {  // adding zeros is exact: every rank ends with every row
    std::vector<torch::Tensor> t{per_batch.to(dist->collective_device())};
    dist->allreduce_sum(t);
    per_batch.copy_(t[0].cpu());
  }
  std::vector<double> clip(nodes.size(), 0.0);
  for (int b = 0; b < batches; ++b)
    for (std::size_t i = 0; i < nodes.size(); ++i) clip[i] += rows[b][static_cast<std::int64_t>(i)] / batches;
  for (std::size_t i = 0; i < nodes.size(); ++i) {
    const auto range = arith::activation_range(tq[i].bits, tq[i].is_signed);
    tq[i].scale = std::max(clip[i], 1e-8) / static_cast<double>(range.hi);
    tq[i].calibrated = true;
  }
  for (std::size_t i = 0; i < nodes.size(); ++i)
    if (nodes[i].op == OpKind::MaxPool) tq[i].scale = tq[static_cast<std::size_t>(nodes[i].inputs[0])].scale;
  net.set_mode(previous);
}

Model export_model(const NetImpl& net, const nlohmann::json& provenance) {
  if (!net.folded()) throw std::logic_error("export needs folded BatchNorm");
  torch::NoGradGuard no_grad;
  Model model;
  model.provenance = provenance;
  const auto shapes = node_shapes(net);
  const auto& nodes = net.nodes();
  const auto& tq = net.tensor_quant();
  for (std::size_t i = 0; i < nodes.size(); ++i) {
    const Node& node = nodes[i];
    Layer layer;
    layer.name = node.name;
    layer.op = node.op;
    layer.inputs = node.inputs;
    layer.out = {shapes[i], tq[i].bits, tq[i].is_signed, tq[i].scale};
    layer.kernel_h = layer.kernel_w = node.kernel;
    layer.stride_h = layer.stride_w = node.stride;
    layer.pad_h = layer.pad_w = node.pad;
    layer.groups = node.groups;
    const double in_scale = i > 0 ? tq[static_cast<std::size_t>(node.inputs[0])].scale : 0.0;
    if (node.has_weights()) {
      const int bits = net.weight_bits()[i];
      layer.weight_bits = bits;
      const auto w = (node.op == OpKind::Conv2d ? node.conv->weight : node.fc->weight).detach().to(torch::kCPU, torch::kFloat64);
      const auto b_tensor = node.op == OpKind::Conv2d ? node.conv->bias : node.fc->bias;
      const auto b = b_tensor.defined() ? b_tensor.detach().to(torch::kCPU, torch::kFloat64) : torch::zeros({w.size(0)}, torch::kFloat64);
      const auto w2 = w.flatten(1).contiguous();
      const auto wrange = arith::weight_range(bits);
      layer.weight.shape = std::vector<std::int64_t>(w.sizes().begin(), w.sizes().end());
      if (node.op == OpKind::Linear && layer.weight.shape[1] != shapes[static_cast<std::size_t>(node.inputs[0])].numel())
        throw std::logic_error("linear input size mismatch");
      const auto* wp = w2.data_ptr<double>();
      const auto* bp = b.data_ptr<double>();
      const std::int64_t per_channel = w2.size(1);
      for (std::int64_t o = 0; o < w2.size(0); ++o) {
        double max_abs = 0;
        for (std::int64_t k = 0; k < per_channel; ++k) max_abs = std::max(max_abs, std::abs(wp[o * per_channel + k]));
        // The exported scale is the float32 value stored in the file; everything below uses exactly it.
        const auto w_scale = static_cast<float>(std::max(max_abs, 1e-12) / static_cast<double>(wrange.hi));
        const double s_w = static_cast<double>(w_scale);
        for (std::int64_t k = 0; k < per_channel; ++k)
          layer.weight.data.push_back(static_cast<std::int32_t>(arith::quantize_value(wp[o * per_channel + k], s_w, wrange)));
        layer.weight_scale.push_back(w_scale);
        layer.bias.push_back(static_cast<std::int32_t>(arith::quantize_value(bp[o], in_scale * s_w, arith::kInt32Range)));
        layer.requant.push_back(arith::quantize_multiplier(in_scale * s_w / tq[i].scale));
      }
    } else if (node.op == OpKind::AvgPool) {
      layer.requant = {arith::quantize_multiplier(in_scale / (tq[i].scale * node.kernel * node.kernel))};
    } else if (node.op == OpKind::Add) {
      layer.add = arith::quantize_add_multipliers(tq[static_cast<std::size_t>(node.inputs[0])].scale,
                                                  tq[static_cast<std::size_t>(node.inputs[1])].scale, tq[i].scale);
    }
    model.layers.push_back(std::move(layer));
  }
  model.validate("export");
  return model;
}

torch::Tensor quantize_input(const Model& model, const torch::Tensor& x) {
  const TensorType& t = model.input().out;
  const auto range = t.range();
  return torch::clamp(torch::round(x.to(torch::kFloat64) / t.scale), static_cast<double>(range.lo),
                      static_cast<double>(range.hi))
      .to(torch::kInt64);
}

torch::Tensor rounding_shift_right(const torch::Tensor& v, const torch::Tensor& shift) {
  const auto below = torch::clamp_min(shift - 1, 0);
  const auto round_bit = torch::bitwise_and(torch::bitwise_right_shift(v, below), 1) * (shift > 0).to(torch::kInt64);
  return torch::bitwise_right_shift(v, shift) + round_bit;
}

IntegerNet::IntegerNet(const Model& model, torch::Device device) : model_(model), device_(device) {
  const auto i64 = torch::TensorOptions().dtype(torch::kInt64);
  for (const Layer& layer : model.layers) {
    LayerParams p;
    if (layer.has_weights()) {
      p.weight = torch::tensor(layer.weight.data, i64).view(layer.weight.shape).to(device, torch::kFloat64);
      p.bias = torch::tensor(layer.bias, i64).to(device);
    }
    if (!layer.requant.empty()) {
      std::vector<std::int64_t> m, s;
      for (const auto& q : layer.requant) {
        m.push_back(q.multiplier);
        s.push_back(q.shift);
      }
      p.multiplier = torch::tensor(m, i64).to(device);
      p.shift = torch::tensor(s, i64).to(device);
    }
    if (layer.op == OpKind::Add) {
      p.multiplier = torch::tensor(std::vector<std::int64_t>{layer.add.multiplier_a, layer.add.multiplier_b}, i64).to(device);
      p.shift = torch::tensor(std::vector<std::int64_t>{layer.add.shift}, i64).to(device);
    }
    params_.push_back(std::move(p));
  }
}

std::vector<torch::Tensor> IntegerNet::run_all(const torch::Tensor& input) const {
  torch::NoGradGuard no_grad;
  std::vector<torch::Tensor> out;
  out.reserve(model_.layers.size());
  auto per_channel = [](const torch::Tensor& t) { return t.view({1, -1, 1, 1}); };
  for (std::size_t i = 0; i < model_.layers.size(); ++i) {
    const Layer& layer = model_.layers[i];
    const LayerParams& p = params_[i];
    const auto range = layer.out.range();
    auto saturate = [&](const torch::Tensor& v) { return torch::clamp(v, range.lo, range.hi); };
    auto in = [&](std::size_t k) -> const torch::Tensor& { return out[static_cast<std::size_t>(layer.inputs[k])]; };
    torch::Tensor y;
    switch (layer.op) {
      case OpKind::Input: y = input.to(device_, torch::kInt64); break;
      case OpKind::Conv2d:
      case OpKind::Linear: {
        torch::Tensor sum;
        if (layer.op == OpKind::Conv2d) {
          sum = torch::conv2d(in(0).to(torch::kFloat64), p.weight, {}, {layer.stride_h, layer.stride_w},
                              {layer.pad_h, layer.pad_w}, 1, layer.groups);
        } else {
          sum = torch::linear(in(0).flatten(1).to(torch::kFloat64), p.weight).view({in(0).size(0), -1, 1, 1});
        }
        const auto acc = wrap32(wrap32(sum.round().to(torch::kInt64)) + per_channel(p.bias));
        y = saturate(rounding_shift_right(acc * per_channel(p.multiplier), per_channel(p.shift)));
        break;
      }
      case OpKind::MaxPool:
        y = torch::max_pool2d(in(0).to(torch::kFloat64), {layer.kernel_h, layer.kernel_w}, {layer.stride_h, layer.stride_w},
                              {layer.pad_h, layer.pad_w})
                .to(torch::kInt64);
        break;
      case OpKind::AvgPool: {
        const auto sum = torch::avg_pool2d(in(0).to(torch::kFloat64), {layer.kernel_h, layer.kernel_w},
                                           {layer.stride_h, layer.stride_w}, {layer.pad_h, layer.pad_w}, false, true,
                                           /*divisor_override=*/1)
                             .round()
                             .to(torch::kInt64);
        y = saturate(rounding_shift_right(sum * p.multiplier[0], p.shift[0]));
        break;
      }
      case OpKind::Add:
        y = saturate(rounding_shift_right(in(0) * p.multiplier[0] + in(1) * p.multiplier[1], p.shift[0]));
        break;
    }
    out.push_back(y);
  }
  return out;
}

}  // namespace faq::golden
