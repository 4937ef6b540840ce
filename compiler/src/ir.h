// The compiler's IR: the model being lowered (graph passes rewrite it), the configuration, one plan per layer
// (tiling and buffer choices, DRAM addresses of its parameters) and the program under construction. Each pass
// (passes.h) reads and extends it; to_text prints it for `faqc compile --dump-after=PASS`.
#pragma once

#include "program.h"

#include <string>
#include <vector>

namespace faq::compiler {

struct LayerPlan {
  // conv2d / linear (a linear layer is a 1x1 convolution of a 1x1 input)
  int kernel = 1, stride = 1, pad = 0;
  int subsample = 1;                           // 1x1 kernel, no padding, stride s > 1: LOADs pick every s-th input row
                                               // and column (subsample = s), and the array runs it at stride 1
  int products = 1;                            // products per PE and cycle (AcceleratorConfig::products): an input block is
                                               // products x rows channels
  std::int64_t in_blocks = 0, out_blocks = 0;  // input channels / (products x rows), output channels / cols, rounded up
  std::int64_t band = 0;                       // output rows per band
  bool spad_double = false;                    // consecutive bands alternate SPAD halves
  bool acc_double = false;                     // consecutive (band, output block) groups alternate ACC halves
  int weight_lane_bits = 8;
  std::uint64_t weights = 0, tile_bytes = 0;   // DRAM address of tile (0, 0, 0, 0) and bytes per tile
  std::vector<std::uint64_t> params;           // DRAM address of each PARAM line (one per output block; pool/add: one)
};

struct Module {
  Model model;
  AcceleratorConfig config;
  std::vector<LayerPlan> plans;
  Program program;
};

std::string to_text(const Module& module);

}  // namespace faq::compiler

namespace faq::compiler {

// The narrowest lane width (2, 4, 8, 16, 32) that holds `bits` and makes lines of every one of `lanes` whole bytes.
int lane_width(int bits, std::initializer_list<int> lanes);

// The products per PE and cycle of a convolution (or linear layer) whose input tensor is `in_bits` wide and whose
// weights are `weight_bits` wide, at the lane widths the program stores them in.
int layer_products(const AcceleratorConfig& config, int in_bits, int weight_bits);

}  // namespace faq::compiler
