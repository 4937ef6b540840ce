// FAQ's quantization steps on the golden network, and the bridge to the integer model:
//   apply_precision  the per-layer precision plan (first and last layer 8-bit, the rest at the target bits)
//   calibrate        activation ranges from a percentile over calibration batches
//   export_model     the fake-quantized network as a faq::Model (integer weights, biases, multipliers)
//   IntegerNet       that faq::Model executed exactly with LibTorch integer-valued tensors, batched, on any
//                    device; it is the integer network whose accuracy the results report, and its per-layer
//                    outputs become the .faq test vectors (checked against faq::run_reference on export).
#pragma once

#include "distributed.h"
#include "graph.h"

#include "faq/model.h"

#include <torch/torch.h>

#include <functional>

namespace faq::golden {

struct PrecisionPlan {
  int weight_bits = 4;       // inner conv layers
  int act_bits = 4;          // activations entering inner conv layers
  int first_last_bits = 8;   // first conv and the final fc: weights and input activations
  int internal_bits = 8;     // tensors no conv reads directly (pre-residual sums, pooled features)
  int logits_bits = 16;      // the network output
};

void apply_precision(NetImpl& net, const PrecisionPlan& plan);

// Runs `batches` (callable returning the next normalized batch) through the folded float network and sets
// each tensor's scale from the `percentile` (e.g. 99.99) of its values (positive part for unsigned tensors,
// magnitude for signed ones), averaged over batches. Max-pool outputs take their input's scale.
// Data-parallel (dist with several ranks): every rank draws every batch (the same random stream), rank r runs
// the batches b = r mod world, and the per-batch percentiles are gathered so that every rank sums them in batch
// order: the ranges equal a single process's bit for bit.
void calibrate(NetImpl& net, const std::function<torch::Tensor()>& next_batch, int batches, double percentile, Distributed* dist = nullptr);

// The integer model of the fake-quantized network (docs/arithmetic.md §2-7), in double precision.
Model export_model(const NetImpl& net, const nlohmann::json& provenance);

// Integer image from a normalized float batch: sat(round_half_even(x / scale)) in the input range, int64.
torch::Tensor quantize_input(const Model& model, const torch::Tensor& x);

class IntegerNet {
 public:
  IntegerNet(const Model& model, torch::Device device);
  // Every layer's output (int64, [N, C, H, W]) for integer inputs [N, C, H, W].
  std::vector<torch::Tensor> run_all(const torch::Tensor& input) const;
  torch::Tensor logits(const torch::Tensor& input) const { return run_all(input).back().flatten(1); }

 private:
  struct LayerParams {
    torch::Tensor weight;      // float64, integer-valued
    torch::Tensor bias;        // int64 [O]
    torch::Tensor multiplier;  // int64 [O] or [1]
    torch::Tensor shift;       // int64 [O] or [1]
  };
  const Model& model_;
  torch::Device device_;
  std::vector<LayerParams> params_;
};

// Exact rounding right shift (docs/arithmetic.md §4) of int64 tensors, shift broadcastable to v.
torch::Tensor rounding_shift_right(const torch::Tensor& v, const torch::Tensor& shift);

}  // namespace faq::golden
