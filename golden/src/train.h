// The training loop shared by FP32 training and FAQ fine-tuning: SGD with momentum, cosine learning-rate
// annealing per step, a progress line (loss, accuracy, images/s, ETA), evaluation after each epoch, and a
// checkpoint after each epoch from which a killed run resumes with the same result. Each epoch's shuffling
// and augmentation are seeded from (seed, epoch) alone, so resuming replays exactly what would have run.
#pragma once

#include "data.h"
#include "distributed.h"
#include "graph.h"

#include <nlohmann/json.hpp>

#include <functional>
#include <string>

namespace faq::golden {

struct TrainOptions {
  std::string stage = "fp32";  // checkpoint name: STAGE.pt, STAGE-optimizer.pt, STAGE.json
  int epochs = 1;
  double lr = 0.1;
  double momentum = 0.9;
  double weight_decay = 5e-4;
  int batch_size = 128;          // the global batch: split over the ranks of a data-parallel run
  std::uint64_t seed = 1;
  std::int64_t train_limit = 0;  // 0: the whole training set; else only its first N images (smoke runs)
  std::int64_t eval_limit = 0;   // 0: the whole test set after each epoch; else its first N images
  BatchOptions batch;
  int stop_after = 0;            // >0: stop after this many epochs in this invocation (time-boxed jobs); rerun to resume
  std::string run_dir;           // checkpoints go here; empty: no checkpoints
  torch::Device device = torch::kCPU;
  bool progress = true;
  std::shared_ptr<Distributed> dist;  // data-parallel group; null: a single process
  std::string amp = "off";       // off | bf16: autocast of convolutions and matmuls on CUDA (quantizers stay float32)
  bool channels_last = false;    // NHWC activations and weights (CUDA tensor cores)
};

struct EpochResult {
  int epoch = 0;
  double loss = 0;
  double train_top1 = 0;
  double test_top1 = 0;
  double seconds = 0;
  double images_per_second = 0;
  nlohmann::json to_json() const;
};

// torch::load with the errors of a user's file (missing, not a checkpoint, another model's) as one-line InputErrors.
void load_checkpoint(Net& net, const std::string& path);

// One step of `optimizer` (plain momentum SGD with weight decay) in multi-tensor kernels, equal to optimizer.step().
void sgd_step(torch::optim::SGD& optimizer);

// Trains `net` for the remaining epochs of `options` (resuming from run_dir/STAGE.* when present) and
// returns every epoch's result, resumed ones included. Data-parallel when options.dist has several ranks: each
// rank takes its share of every global batch, gradients are all-reduced in buckets during backward, rank 0
// writes the checkpoints, the reported metrics are reduced over the ranks. BatchNorm (FP32 stage only; FAQ
// fine-tunes folded networks) normalizes with each rank's own batch statistics, as PyTorch's DDP does without
// SyncBatchNorm; the running statistics of rank 0 are broadcast after every epoch.
std::vector<EpochResult> train(Net& net, const Dataset& train_set, const Dataset& test_set, const TrainOptions& options);

// Top-1 accuracy in percent and the predicted classes [N]. `float64` evaluates the network in double precision: the
// final measurement of a fake-quantized network, whose values are then exact multiples of its scales up to 2^-53,
// so that its predictions differ from the integer network's only where requantization rounds a true tie differently
// (float32 accumulation otherwise moves near-ties across rounding boundaries, one LSB at a time).
struct Evaluation {
  double top1 = 0;
  torch::Tensor predictions;
};
// With `dist` (several ranks), each rank evaluates its contiguous share of the images and top1 is reduced over the
// ranks; predictions then hold this rank's share only.
Evaluation evaluate(Net& net, const Dataset& data, const BatchOptions& batch, int batch_size, torch::Device device,
                    std::int64_t limit = 0, bool float64 = false, Distributed* dist = nullptr);

}  // namespace faq::golden
