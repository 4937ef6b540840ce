// Constrained-random models of one layer (convolution with kernels 1-7, strides 1-3, paddings, 2/4/8-bit
// weights and activations, 2-16-bit outputs; max/average pooling; residual add of a 1x1 convolution), shared by
// the compiler's random test (instruction-level simulator) and the RTL's (Verilated accelerator).
#pragma once

#include "faq/model.h"

#include <random>

namespace faq::testing {

using Rng = std::mt19937_64;

int pick(Rng& rng, std::initializer_list<int> values);
int uniform(Rng& rng, int lo, int hi);
Model random_model(Rng& rng);
IntTensor random_input(Rng& rng, const Model& m);

}  // namespace faq::testing
