// Lowering of a .faq model to an accelerator program for one AcceleratorConfig (docs/isa.md).
#pragma once

#include "faq/config.h"
#include "faq/isa.h"
#include "faq/model.h"

#include <cstdint>
#include <vector>

namespace faq::compiler {

// Where a layer's output tensor lives in DRAM: H x W x c_pad, lanes of `lane_bits`.
struct TensorPlacement {
  std::uint64_t address = 0;
  std::int64_t c_pad = 0;     // channels rounded up to a multiple of rows and cols
  int lane_bits = 8;
  bool is_signed = true;
  std::uint64_t pixel_stride() const { return static_cast<std::uint64_t>(c_pad * lane_bits / 8); }
  std::uint64_t bytes(const Shape& s) const { return static_cast<std::uint64_t>(s.h * s.w) * pixel_stride(); }
};

struct Program {
  std::uint64_t config_hash = 0;
  std::vector<isa::Instruction> code;
  std::vector<std::uint8_t> dram;             // initial image: weights and parameters, zeroed activations
  std::vector<TensorPlacement> tensors;       // one per layer
  std::vector<std::size_t> layer_first;       // index of each layer's first instruction
};

// Throws InputError "layer 'x': reason" when the configuration cannot run a layer.
Program compile(const Model& model, const AcceleratorConfig& config);

// Writes the input image into the program's DRAM image; reads a layer's output back from a DRAM image.
void place_input(const Model& model, const Program& program, const IntTensor& input, std::vector<std::uint8_t>& dram);
IntTensor read_tensor(const Model& model, const Program& program, std::size_t layer, const std::vector<std::uint8_t>& dram);

}  // namespace faq::compiler
