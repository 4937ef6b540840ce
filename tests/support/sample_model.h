// Synthetic quantized models for tests, the fuzzer's seed corpus and `faqc inspect` demonstrations: a small
// residual network with random integer weights whose requantization keeps activations in range, and test
// vectors computed by the reference interpreter.
#pragma once

#include "faq/model.h"

#include <cstdint>

namespace faq::testing {

struct SampleOptions {
  int weight_bits = 4;      // inner layers; the first and last layer use 8 (the FAQ plan)
  int act_bits = 4;         // inner activations; the input is s8 and the logits s16
  int test_vectors = 2;
  std::uint64_t seed = 1;
  int size = 12;            // input height and width
};

// input s8 [1,S,S] -> conv1 3x3 (w8) -> conv2 3x3 -> add(conv2, conv1) -> maxpool 2x2 -> conv3 3x3 s2 g2
// -> avgpool (global) -> fc 10 (w8, s16 logits).
Model make_sample_model(const SampleOptions& options);

// Random input image of the model's input shape and range.
IntTensor random_input(const Model& model, std::uint64_t seed);

}  // namespace faq::testing
