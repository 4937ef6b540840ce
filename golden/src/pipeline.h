// The whole FAQ flow of one run, as `faq-train` performs it:
//   1. FP32 network: trained here, loaded from a checkpoint of an earlier run, loaded from torchvision-named
//      pretrained weights, or left at random initialization (--random-init, marked untrained);
//   2. BatchNorm folded into the convolutions;
//   3. precision plan applied (first and last layer 8-bit), activation ranges calibrated;
//   4. FAQ fine-tuning with the straight-through estimator;
//   5. export: the integer model, evaluated exactly by IntegerNet (accuracy, agreement with the fake-quantized
//      network), test vectors checked against faq::run_reference, written as NAME.faq with metrics.json.
#pragma once

#include "quant.h"
#include "train.h"

#include <nlohmann/json.hpp>

#include <string>

namespace faq::golden {

struct RunOptions {
  NetSpec net;
  std::string data = "fashion-mnist";  // fashion-mnist[:DIR] | imagefolder:DIR (train/ and val/ inside)
  bool stream_data = false;            // imagefolder: decode per batch even when the folder would fit in memory
  std::string run_dir = "runs/run";
  std::string name;                    // output NAME.faq; default <arch>_w<W>a<A>
  std::string fp32_checkpoint;         // reuse an FP32 network (a run's fp32-eN.pt)
  std::string pretrained;              // torchvision-named safetensors
  bool random_init = false;
  PrecisionPlan plan;
  TrainOptions fp32;                   // stage "fp32"
  TrainOptions faq;                    // stage "faq"
  int calib_batches = 8;
  double calib_percentile = 99.99;
  int test_vectors = 2;
  std::int64_t eval_limit = 0;         // 0: whole test set
  std::string command;                 // the command line, recorded in provenance
};

nlohmann::json run_faq(const RunOptions& options);

// Loads F32 tensors of a safetensors file (torchvision names), for pretrained weights.
std::map<std::string, torch::Tensor> load_safetensors_f32(const std::string& path);

}  // namespace faq::golden
