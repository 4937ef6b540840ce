// Builders of the supported topologies and the node interpreter.
//   tiny      conv3x3(16) - maxpool2 - conv3x3(32) - global avgpool - fc          (fast tests)
//   resnet20  CIFAR-style ResNet (He et al. 2016, 3 stages x 3 basic blocks, 16/32/64 channels), 1x1
//             projection shortcuts where the shape changes; any input size
//   resnet18/34/50  torchvision's topology (7x7/2 stem, 3x3/2 max pool, 4 stages, global avgpool, fc),
//             ResNet-50 with stride in the 3x3 convolution (torchvision v1.5); parameter names as torchvision's
// Global average pooling is an avgpool whose window is the whole feature map, fixed by the input size.
#include "graph.h"

#include "faq/arithmetic.h"
#include "faq/error.h"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <algorithm>

namespace faq::golden {

namespace {

std::string layer_name(const std::string& torch_prefix) {
  std::string name = torch_prefix;
  std::replace(name.begin(), name.end(), '.', '_');
  return name;
}

}  // namespace

// Rounds half up, floor(x / s + 1/2), as the integer requantization does (docs/arithmetic.md §4), so that the
// fake-quantized network and the integer network agree on ties.
namespace {

template <typename Scale>
torch::Tensor fake_quant_impl(const torch::Tensor& x, const Scale& scale, std::int64_t lo, std::int64_t hi) {
  const auto clipped = torch::clamp(x, scale * static_cast<double>(lo), scale * static_cast<double>(hi));
  const auto quantized = torch::floor(clipped / scale + 0.5) * scale;
  return clipped + (quantized - clipped).detach();
}

}  // namespace

torch::Tensor fake_quant(const torch::Tensor& x, const torch::Tensor& scale, std::int64_t lo, std::int64_t hi) {
  return fake_quant_impl(x, scale, lo, hi);
}

namespace {

// The activation quantizer of every node, as one autograd node: the forward pass clamps into a fresh tensor and
// rounds in place (5 elementwise passes over the activation instead of the 7 of clamp + divide + add + floor +
// multiply + the detached difference), the backward pass masks the gradient to the clipping range, inclusive as
// torch::clamp's. Values and gradients equal fake_quant_impl's (the detached difference adds back exactly: tested).
struct FakeQuantScalar : torch::autograd::Function<FakeQuantScalar> {
  static torch::Tensor forward(torch::autograd::AutogradContext* ctx, const torch::Tensor& x, double scale, double lo, double hi) {
    ctx->save_for_backward({x});
    ctx->saved_data["lo"] = lo;
    ctx->saved_data["hi"] = hi;
    return torch::clamp(x, lo, hi).div_(scale).add_(0.5).floor_().mul_(scale);
  }
  static torch::autograd::tensor_list backward(torch::autograd::AutogradContext* ctx, torch::autograd::tensor_list grad) {
    const auto x = ctx->get_saved_variables()[0];
    const auto inside = (x >= ctx->saved_data["lo"].toDouble()).logical_and_(x <= ctx->saved_data["hi"].toDouble());
    return {torch::where(inside, grad[0], torch::zeros({}, grad[0].options())), {}, {}, {}};
  }
};

}  // namespace

torch::Tensor fake_quant(const torch::Tensor& x, double scale, std::int64_t lo, std::int64_t hi) {
  return FakeQuantScalar::apply(x, scale, scale * static_cast<double>(lo), scale * static_cast<double>(hi));
}

torch::Tensor fake_quant_reference(const torch::Tensor& x, double scale, std::int64_t lo, std::int64_t hi) {
  return fake_quant_impl(x, scale, lo, hi);
}

torch::Tensor weight_scales(const torch::Tensor& w, int bits) {
  const auto hi = static_cast<double>(arith::weight_range(bits).hi);
  return (w.detach().abs().flatten(1).amax(1) / hi).clamp_min(1e-12);
}

torch::Tensor fake_quant_weight(const torch::Tensor& w, int bits) { return fake_quant_weight(w, bits, weight_scales(w, bits)); }

torch::Tensor fake_quant_weight(const torch::Tensor& w, int bits, const torch::Tensor& scales) {
  const auto hi = arith::weight_range(bits).hi;
  std::vector<std::int64_t> view(static_cast<std::size_t>(w.dim()), 1);
  view[0] = -1;
  const auto scale = scales.view(view);
  const auto quantized = torch::clamp(torch::round(w / scale), -hi, hi) * scale;
  return w + (quantized - w).detach();
}

NetImpl::NetImpl(const NetSpec& spec) : spec_(spec) {
  Node input;
  input.name = "input";
  input.op = OpKind::Input;
  add_node(std::move(input));
  if (spec.arch == "tiny") build_tiny();
  else if (spec.arch == "resnet20") build_resnet_cifar(3);
  else if (spec.arch == "resnet18") build_resnet_imagenet({2, 2, 2, 2}, false);
  else if (spec.arch == "resnet34") build_resnet_imagenet({3, 4, 6, 3}, false);
  else if (spec.arch == "resnet50") build_resnet_imagenet({3, 4, 6, 3}, true);
  else fail_input("model '{}' is not one of tiny, resnet20, resnet18, resnet34, resnet50", spec.arch);
  tensor_quant_.resize(nodes_.size());
  weight_bits_.assign(nodes_.size(), 8);
  node_shapes(*this);  // checks that the input size suits the topology
}

int NetImpl::add_node(Node node) {
  nodes_.push_back(std::move(node));
  return static_cast<int>(nodes_.size()) - 1;
}

int NetImpl::conv(const std::string& name, const std::string& prefix, int from, int in_c, int out_c, int kernel,
                  int stride, int pad, bool relu, const std::string& bn_prefix) {
  Node node;
  node.name = name;
  node.torch_prefix = prefix;
  node.bn_prefix = bn_prefix;
  node.op = OpKind::Conv2d;
  node.inputs = {from};
  node.relu = relu;
  node.kernel = kernel;
  node.stride = stride;
  node.pad = pad;
  node.conv = register_module(name, torch::nn::Conv2d(torch::nn::Conv2dOptions(in_c, out_c, kernel)
                                                          .stride(stride).padding(pad).bias(false)));
  torch::nn::init::kaiming_normal_(node.conv->weight, 0.0, torch::kFanOut, torch::kReLU);
  node.bn = register_module(name + "_bn", torch::nn::BatchNorm2d(out_c));
  return add_node(std::move(node));
}

int NetImpl::residual(const std::string& prefix, int from, int branch, int in_c, int out_c, int stride) {
  const std::string p = layer_name(prefix);
  int shortcut = from;
  if (stride != 1 || in_c != out_c)
    shortcut = conv(p + "_downsample", prefix + ".downsample.0", from, in_c, out_c, 1, stride, 0, false,
                    prefix + ".downsample.1");
  Node add;
  add.name = p + "_add";
  add.op = OpKind::Add;
  add.inputs = {branch, shortcut};
  add.relu = true;
  return add_node(std::move(add));
}

int NetImpl::basic_block(const std::string& prefix, int from, int in_c, int out_c, int stride) {
  const std::string p = layer_name(prefix);
  const int a = conv(p + "_conv1", prefix + ".conv1", from, in_c, out_c, 3, stride, 1, true, prefix + ".bn1");
  const int b = conv(p + "_conv2", prefix + ".conv2", a, out_c, out_c, 3, 1, 1, false, prefix + ".bn2");
  return residual(prefix, from, b, in_c, out_c, stride);
}

int NetImpl::bottleneck(const std::string& prefix, int from, int in_c, int mid_c, int stride) {
  const std::string p = layer_name(prefix);
  const int out_c = mid_c * 4;
  const int a = conv(p + "_conv1", prefix + ".conv1", from, in_c, mid_c, 1, 1, 0, true, prefix + ".bn1");
  const int b = conv(p + "_conv2", prefix + ".conv2", a, mid_c, mid_c, 3, stride, 1, true, prefix + ".bn2");
  const int c = conv(p + "_conv3", prefix + ".conv3", b, mid_c, out_c, 1, 1, 0, false, prefix + ".bn3");
  return residual(prefix, from, c, in_c, out_c, stride);
}

namespace {

Node pool_node(const std::string& name, OpKind op, int from, int kernel, int stride, int pad) {
  Node node;
  node.name = name;
  node.op = op;
  node.inputs = {from};
  node.kernel = kernel;
  node.stride = stride;
  node.pad = pad;
  return node;
}

}  // namespace

int NetImpl::feature_size() const { return static_cast<int>(node_shapes(*this).back().h); }

void NetImpl::build_resnet_imagenet(const std::vector<int>& blocks, bool bottleneck_blocks) {
  int x = conv("conv1", "conv1", 0, spec_.in_channels, 64, 7, 2, 3, true, "bn1");
  x = add_node(pool_node("maxpool", OpKind::MaxPool, x, 3, 2, 1));
  int in_c = 64;
  const int widths[] = {64, 128, 256, 512};
  for (std::size_t stage = 0; stage < blocks.size(); ++stage) {
    for (int b = 0; b < blocks[stage]; ++b) {
      const int stride = (stage > 0 && b == 0) ? 2 : 1;
      const std::string prefix = fmt::format("layer{}.{}", stage + 1, b);
      if (bottleneck_blocks) {
        x = bottleneck(prefix, x, in_c, widths[stage], stride);
        in_c = widths[stage] * 4;
      } else {
        x = basic_block(prefix, x, in_c, widths[stage], stride);
        in_c = widths[stage];
      }
    }
  }
  classifier(x, in_c);
}

void NetImpl::build_resnet_cifar(int blocks_per_stage) {
  int x = conv("conv1", "conv1", 0, spec_.in_channels, 16, 3, 1, 1, true, "bn1");
  int in_c = 16;
  const int widths[] = {16, 32, 64};
  for (int stage = 0; stage < 3; ++stage) {
    for (int b = 0; b < blocks_per_stage; ++b) {
      const int stride = (stage > 0 && b == 0) ? 2 : 1;
      x = basic_block(fmt::format("layer{}.{}", stage + 1, b), x, in_c, widths[stage], stride);
      in_c = widths[stage];
    }
  }
  classifier(x, in_c);
}

void NetImpl::build_tiny() {
  int x = conv("conv1", "conv1", 0, spec_.in_channels, 16, 3, 1, 1, true, "bn1");
  x = add_node(pool_node("pool1", OpKind::MaxPool, x, 2, 2, 0));
  x = conv("conv2", "conv2", x, 16, 32, 3, 1, 1, true, "bn2");
  classifier(x, 32);
}

void NetImpl::classifier(int from, int channels) {
  const int pooled = add_node(pool_node("avgpool", OpKind::AvgPool, from, feature_size(), 1, 0));
  Node fc;
  fc.name = "fc";
  fc.torch_prefix = "fc";
  fc.op = OpKind::Linear;
  fc.inputs = {pooled};
  fc.fc = register_module("fc", torch::nn::Linear(channels, spec_.num_classes));
  add_node(std::move(fc));
}

std::vector<Shape> node_shapes(const NetImpl& net) {
  std::vector<Shape> shapes;
  for (const Node& node : net.nodes()) {
    Layer layer;
    layer.name = node.name;
    layer.op = node.op;
    layer.kernel_h = layer.kernel_w = node.kernel;
    layer.stride_h = layer.stride_w = node.stride;
    layer.pad_h = layer.pad_w = node.pad;
    layer.groups = node.groups;
    if (node.op == OpKind::Input) layer.out.shape = {net.spec().in_channels, net.spec().image_size, net.spec().image_size};
    if (node.op == OpKind::Conv2d) layer.out.shape.c = node.conv->options.out_channels();
    if (node.op == OpKind::Linear) layer.out.shape.c = node.fc->options.out_features();
    std::vector<Shape> in;
    for (int i : node.inputs) in.push_back(shapes[static_cast<std::size_t>(i)]);
    shapes.push_back(infer_shape(layer, in, fmt::format("{} at {}x{}", net.spec().arch, net.spec().image_size,
                                                        net.spec().image_size)));
  }
  return shapes;
}

std::int64_t NetImpl::mac_count() const {
  const auto shapes = node_shapes(*this);
  std::int64_t macs = 0;
  for (std::size_t i = 0; i < nodes_.size(); ++i) {
    const Node& node = nodes_[i];
    if (node.op == OpKind::Conv2d)
      macs += shapes[i].numel() * node.conv->weight.size(1) * node.kernel * node.kernel;
    if (node.op == OpKind::Linear) macs += node.fc->weight.numel();
  }
  return macs;
}

void NetImpl::set_mode(Mode mode) {
  if (mode == Mode::Quantized) {
    if (!folded_) throw std::logic_error("quantized mode needs folded BatchNorm");
    for (std::size_t i = 0; i < nodes_.size(); ++i)
      if (nodes_[i].op != OpKind::MaxPool && !tensor_quant_[i].calibrated)
        throw std::logic_error(fmt::format("tensor '{}' is not calibrated", nodes_[i].name));
  }
  mode_ = mode;
}

std::vector<torch::Tensor> NetImpl::forward_all(const torch::Tensor& x) {
  const bool quantized = mode_ == Mode::Quantized;
  std::vector<torch::Tensor> out(nodes_.size());
  for (std::size_t i = 0; i < nodes_.size(); ++i) {
    Node& node = nodes_[i];
    const TensorQuant& q = tensor_quant_[i];
    auto input = [&](std::size_t k) -> const torch::Tensor& { return out[static_cast<std::size_t>(node.inputs[k])]; };
    torch::Tensor y;
    switch (node.op) {
      case OpKind::Input: y = x; break;
      case OpKind::Conv2d:
      case OpKind::Linear: {
        torch::Tensor w = node.op == OpKind::Conv2d ? node.conv->weight : node.fc->weight;
        torch::Tensor b = node.op == OpKind::Conv2d ? node.conv->bias : node.fc->bias;
        if (quantized) {
          const double in_scale = tensor_quant_[static_cast<std::size_t>(node.inputs[0])].scale;
          const auto scales = weight_scales(w, weight_bits_[i]);  // once per forward: weights and bias share them
          const auto bias_scale = scales * in_scale;
          w = fake_quant_weight(w, weight_bits_[i], scales);
          if (b.defined()) b = fake_quant(b, bias_scale, arith::kInt32Range.lo, arith::kInt32Range.hi);
        }
        if (node.op == OpKind::Conv2d) {
          y = torch::conv2d(input(0), w, b, node.stride, node.pad, 1, node.groups);
          if (!folded_) y = node.bn->forward(y);
        } else {
          y = torch::linear(input(0).flatten(1), w, b);
        }
        if (node.relu) y = torch::relu(y);
        break;
      }
      case OpKind::MaxPool: y = torch::max_pool2d(input(0), node.kernel, node.stride, node.pad); break;
      case OpKind::AvgPool: y = torch::avg_pool2d(input(0), node.kernel, node.stride, node.pad); break;
      case OpKind::Add:
        y = input(0) + input(1);
        if (node.relu) y = torch::relu(y);
        break;
    }
    if (quantized && node.op != OpKind::MaxPool) {
      // under bf16 autocast, quantize in float32: the quantizer's rounding stays exact
      if (y.scalar_type() != torch::kFloat32 && y.scalar_type() != torch::kFloat64) y = y.to(torch::kFloat32);
      const auto range = arith::activation_range(q.bits, q.is_signed);
      y = fake_quant(y, q.scale, range.lo, range.hi);
    }
    if (node.op == OpKind::Linear) y = y.view({y.size(0), y.size(1), 1, 1});
    out[i] = y;
  }
  return out;
}

torch::Tensor NetImpl::forward(const torch::Tensor& x) { return forward_all(x).back().flatten(1); }

void NetImpl::fold_batchnorm() {
  if (folded_) return;
  torch::NoGradGuard no_grad;
  for (Node& node : nodes_) {
    if (node.op != OpKind::Conv2d) continue;
    const auto& bn = node.bn;
    const auto inv_std = torch::rsqrt(bn->running_var + bn->options.eps());
    const auto gamma = bn->weight * inv_std;
    const auto& o = node.conv->options;
    auto folded = torch::nn::Conv2d(torch::nn::Conv2dOptions(o.in_channels(), o.out_channels(), o.kernel_size())
                                        .stride(o.stride())
                                        .padding(node.pad)
                                        .groups(o.groups())
                                        .bias(true));
    folded->to(node.conv->weight.device());
    folded->weight.copy_(node.conv->weight * gamma.view({-1, 1, 1, 1}));
    folded->bias.copy_(bn->bias - bn->running_mean * gamma);
    node.conv = replace_module(node.name, folded);
    unregister_module(node.name + "_bn");
    node.bn = nullptr;
  }
  folded_ = true;
}

void NetImpl::load_torchvision(const std::map<std::string, torch::Tensor>& tensors, bool allow_missing_fc) {
  torch::NoGradGuard no_grad;
  auto copy = [&](const std::string& name, torch::Tensor& target) {
    const auto it = tensors.find(name);
    if (it == tensors.end()) fail_input("pretrained weights: tensor '{}' is missing", name);
    if (it->second.sizes() != target.sizes()) {
      if (allow_missing_fc && name.starts_with("fc.")) return false;
      fail_input("pretrained weights: tensor '{}' has shape {}, the model needs {}", name,
                 fmt::format("{}", fmt::join(it->second.sizes(), "x")), fmt::format("{}", fmt::join(target.sizes(), "x")));
    }
    target.copy_(it->second.to(target.device(), target.scalar_type()));
    return true;
  };
  if (folded_) fail_input("pretrained weights must be loaded before BatchNorm folding");
  for (Node& node : nodes_) {
    if (node.op == OpKind::Conv2d) {
      copy(node.torch_prefix + ".weight", node.conv->weight);
      copy(node.bn_prefix + ".weight", node.bn->weight);
      copy(node.bn_prefix + ".bias", node.bn->bias);
      copy(node.bn_prefix + ".running_mean", node.bn->running_mean);
      copy(node.bn_prefix + ".running_var", node.bn->running_var);
    } else if (node.op == OpKind::Linear) {
      if (copy("fc.weight", node.fc->weight)) copy("fc.bias", node.fc->bias);
    }
  }
}

}  // namespace faq::golden
