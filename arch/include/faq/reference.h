// The reference integer interpreter: runs a Model on one input exactly as docs/arithmetic.md specifies
// (32-bit wrapping accumulators, requantization, saturation). It is the oracle the compiler, the
// instruction-level simulator and the RTL are compared with, and it produces a .faq file's test vectors.
#pragma once

#include "faq/model.h"

#include <vector>

namespace faq {

// Every layer's output for `input` (shape and range of the model's input layer); result[0] == input.
std::vector<IntTensor> run_reference(const Model& model, const IntTensor& input);

// Output of a single layer given its inputs' tensors.
IntTensor run_layer(const Layer& layer, const std::vector<const IntTensor*>& inputs);

// The first position where two per-layer output lists differ, as "layer 'x' element i: expected E, got A",
// or an empty string when they are equal.
std::string first_mismatch(const Model& model, const std::vector<IntTensor>& expected,
                           const std::vector<IntTensor>& actual);

}  // namespace faq
