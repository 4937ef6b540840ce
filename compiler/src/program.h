// What the compiler produces for one model and one AcceleratorConfig: the program, its DRAM image and where
// every layer's tensor lives. The program and DRAM files (docs/compiler.md) carry the configuration hash.
#pragma once

#include "faq/config.h"
#include "faq/isa.h"
#include "faq/model.h"

#include <cstdint>
#include <string>
#include <vector>

namespace faq::compiler {

// Where a layer's output tensor lives in DRAM: H x W x c_pad, lanes of `lane_bits`.
struct TensorPlacement {
  Shape shape;                // as stored (the input is the im2col-expanded image when the first conv was rewritten)
  std::uint64_t address = 0;
  std::int64_t c_pad = 0;     // channels rounded up to a multiple of rows and cols
  int lane_bits = 8;
  int bits = 8;               // the tensor's own width (lanes may be wider)
  bool is_signed = true;
  std::uint64_t pixel_stride() const { return static_cast<std::uint64_t>(c_pad * lane_bits / 8); }
  std::uint64_t bytes() const { return static_cast<std::uint64_t>(shape.h * shape.w) * pixel_stride(); }
};

// The first convolution rewritten as a 1x1 convolution over an im2col-expanded input (pass expand-input): the
// stored input holds, for every output pixel, the kernel x kernel x C window of the image.
struct InputExpansion {
  bool active = false;
  Shape image;                // the model's input
  int kernel = 1, stride = 1, pad = 0;
  Shape expanded() const;
};

struct Program {
  std::uint64_t config_hash = 0;
  std::vector<isa::Instruction> code;
  std::vector<std::uint8_t> dram;             // initial image: weights and parameters, zeroed activations
  std::vector<TensorPlacement> tensors;       // one per layer
  std::vector<std::size_t> layer_first;       // index of each layer's first instruction
  InputExpansion input;
};

// The input as the program stores it: the image itself, or its im2col expansion.
IntTensor stored_input(const Program& program, const IntTensor& image);
// Writes an input image into a DRAM image; reads a layer's output (as stored) back from a DRAM image.
void place_input(const Program& program, const IntTensor& image, std::vector<std::uint8_t>& dram);
IntTensor read_tensor(const Program& program, std::size_t layer, const std::vector<std::uint8_t>& dram);

// Program file: "FAQP", ISA version (u32), config hash (u64), instruction count (u64), 16-byte instructions.
// DRAM file: "FAQD", config hash (u64), byte count (u64), the bytes.
void write_program(const std::string& path, const Program& program);
void write_dram(const std::string& path, const Program& program);
// Read back and check against the configuration they are to run on: a file made for another configuration
// (hash), another ISA version, a truncated or malformed file are InputErrors naming the file.
std::vector<isa::Instruction> read_program(const std::string& path, const AcceleratorConfig& config);
std::vector<std::uint8_t> read_dram(const std::string& path, const AcceleratorConfig& config);
// Replaces a freshly compiled program's code and DRAM image by PREFIX.prog and PREFIX.dram of an earlier compile,
// checked as above and against the compiled image's size (a file of another model is refused; `model` names it).
void load_program_files(Program& program, const std::string& prefix, const AcceleratorConfig& config, const std::string& model);

}  // namespace faq::compiler
