// The golden network: a list of nodes in topological order, each one op of the integer model
// (docs/faq-format.md) plus the float parameters that training updates. One interpreter runs it in three
// modes: FP32 with BatchNorm (training from scratch), folded FP32 (BatchNorm folded into the convolutions,
// used for calibration) and fake-quantized (FAQ fine-tuning, straight-through estimator). Because the node
// list mirrors faq::Model layer for layer, export is a direct mapping (quant.h).
#pragma once

#include "faq/model.h"

#include <torch/torch.h>

#include <map>
#include <string>
#include <vector>

namespace faq::golden {

struct Node {
  std::string name;          // the .faq layer name (no dots)
  std::string torch_prefix;  // torchvision parameter prefix of the conv/linear ("layer1.0.conv1"), empty if none
  std::string bn_prefix;     // torchvision prefix of the BatchNorm after it ("layer1.0.bn1"), empty if none
  OpKind op = OpKind::Input;
  std::vector<int> inputs;
  bool relu = false;         // conv/linear/add followed by ReLU (an unsigned output tensor)
  int kernel = 1, stride = 1, pad = 0, groups = 1;
  torch::nn::Conv2d conv{nullptr};
  torch::nn::BatchNorm2d bn{nullptr};
  torch::nn::Linear fc{nullptr};
  bool has_weights() const { return op == OpKind::Conv2d || op == OpKind::Linear; }
};

// Quantization state of one tensor (a node's output) and of a node's weights.
struct TensorQuant {
  int bits = 8;
  bool is_signed = true;
  double scale = 1.0;
  bool calibrated = false;
};

enum class Mode { Float, Quantized };

struct NetSpec {
  std::string arch = "resnet20";  // tiny | resnet20 | resnet18 | resnet34 | resnet50
  int in_channels = 1;
  int image_size = 28;
  int num_classes = 10;
};

class NetImpl : public torch::nn::Module {
 public:
  explicit NetImpl(const NetSpec& spec);

  const NetSpec& spec() const { return spec_; }
  std::vector<Node>& nodes() { return nodes_; }
  const std::vector<Node>& nodes() const { return nodes_; }
  std::vector<TensorQuant>& tensor_quant() { return tensor_quant_; }
  const std::vector<TensorQuant>& tensor_quant() const { return tensor_quant_; }
  std::vector<int>& weight_bits() { return weight_bits_; }
  const std::vector<int>& weight_bits() const { return weight_bits_; }
  bool folded() const { return folded_; }
  Mode mode() const { return mode_; }
  void set_mode(Mode mode);

  // Logits for a batch of normalized images [N, C, H, W].
  torch::Tensor forward(const torch::Tensor& x);
  // Every node's output (float mode, or fake-quantized in quantized mode), for calibration and tests.
  std::vector<torch::Tensor> forward_all(const torch::Tensor& x);

  // Folds each BatchNorm into the convolution before it (conv gets a bias); running statistics are used.
  void fold_batchnorm();

  // Loads torchvision-named float tensors (e.g. from an ImageNet-pretrained ResNet-18 safetensors file);
  // tensors whose shape differs (a classifier with another class count) are reported and skipped.
  void load_torchvision(const std::map<std::string, torch::Tensor>& tensors, bool allow_missing_fc);

  std::int64_t mac_count() const;

 private:
  int add_node(Node node);
  int conv(const std::string& name, const std::string& prefix, int from, int in_c, int out_c, int kernel, int stride,
           int pad, bool relu, const std::string& bn_prefix);
  // The shortcut (a 1x1 projection where the shape changes) and the ReLU'd sum with `branch`.
  int residual(const std::string& prefix, int from, int branch, int in_c, int out_c, int stride);
  int basic_block(const std::string& prefix, int from, int in_c, int out_c, int stride);
  int bottleneck(const std::string& prefix, int from, int in_c, int mid_c, int stride);
  void build_resnet_imagenet(const std::vector<int>& blocks, bool bottleneck_blocks);
  void build_resnet_cifar(int blocks_per_stage);
  void build_tiny();
  int feature_size() const;
  void classifier(int from, int channels);  // global average pool and the fully connected layer  // height of the last node's output (the global pooling window)

  NetSpec spec_;
  std::vector<Node> nodes_;
  std::vector<TensorQuant> tensor_quant_;
  std::vector<int> weight_bits_;
  bool folded_ = false;
  Mode mode_ = Mode::Float;
};
TORCH_MODULE(Net);

// Output shape [C, H, W] of every node for the spec's input size.
std::vector<Shape> node_shapes(const NetImpl& net);

// Fake quantization with the straight-through estimator: forward sat(floor(x / s + 1/2)) * s, backward
// the identity inside the clipping range and zero outside.
// `scale` is a scalar or a tensor broadcastable to x (per-channel bias scales).
torch::Tensor fake_quant(const torch::Tensor& x, const torch::Tensor& scale, std::int64_t lo, std::int64_t hi);
torch::Tensor fake_quant(const torch::Tensor& x, double scale, std::int64_t lo, std::int64_t hi);
// The scalar form written out of autograd primitives (clamp, divide, add, floor, multiply, detached difference):
// the definition the fused fake_quant above is tested against.
torch::Tensor fake_quant_reference(const torch::Tensor& x, double scale, std::int64_t lo, std::int64_t hi);
// Per-output-channel symmetric weight quantization: scale = max|w_o| / (2^(b-1) - 1), straight-through.
torch::Tensor fake_quant_weight(const torch::Tensor& w, int bits);
// The same with the per-channel scales already computed (weight_scales(w, bits)).
torch::Tensor fake_quant_weight(const torch::Tensor& w, int bits, const torch::Tensor& scales);
torch::Tensor weight_scales(const torch::Tensor& w, int bits);

}  // namespace faq::golden
