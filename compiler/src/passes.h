// The pass pipeline of faqc compile, in order (pipeline.cpp holds the list; one pass per file):
//   legalize      every layer is one the configuration can run (ops, precisions, accumulator width)
//   expand-input  a first convolution with fewer input channels than rows becomes a 1x1 convolution over the
//                 im2col-expanded input, so the array's rows are filled
//   tile          output bands that fit ACC and SPAD, double-buffered (halves) where they fit
//   layout        DRAM: packed weight tiles, PARAM lines, then every activation tensor
//   emit          the instructions, layer by layer, and HALT
#pragma once

#include "ir.h"

#include <functional>
#include <span>
#include <string_view>

namespace faq::compiler {

struct Pass {
  std::string_view name;
  std::string_view summary;
  void (*run)(Module&);
};

std::span<const Pass> pipeline();

void legalize(Module& module);
void expand_input(Module& module);
void tile(Module& module);
void layout(Module& module);
void emit(Module& module);

// Called after each pass (for --dump-after).
using PassHook = std::function<void(const Pass&, const Module&)>;

// Throws InputError "layer 'x': reason" when the configuration cannot run a layer.
Program compile(const Model& model, const AcceleratorConfig& config, const PassHook& after_pass = {});

}  // namespace faq::compiler
