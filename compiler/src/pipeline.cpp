// The pass list, the driver and the IR printer.
#include "passes.h"

#include "faq/packing.h"

#include <fmt/format.h>

#include <algorithm>
#include <array>

namespace faq::compiler {

int lane_width(int bits, std::initializer_list<int> lanes) {
  int width = packing::lane_bits(bits);
  while (width < 32 && std::any_of(lanes.begin(), lanes.end(), [&](int n) { return (n * width) % 8 != 0; })) width *= 2;
  return width;
}

int layer_products(const AcceleratorConfig& config, int in_bits, int weight_bits) {
  return config.products(lane_width(in_bits, {config.rows, config.cols}), lane_width(weight_bits, {config.cols}));
}

std::span<const Pass> pipeline() {
  static constexpr std::array<Pass, 5> passes{{
      {"legalize", "check that the configuration can run every layer (average pooling as a convolution without a POOL unit)", legalize},
      {"expand-input", "im2col the input of a first convolution with fewer channels than rows", expand_input},
      {"tile", "choose output bands and double-buffering per layer", tile},
      {"layout", "place weights, parameters and activations in DRAM", layout},
      {"emit", "emit the instructions", emit},
  }};
  return passes;
}

Program compile(const Model& model, const AcceleratorConfig& config, const PassHook& after_pass) {
  Module module{.model = {}, .config = config, .plans = {}, .program = {}};
  module.model.layers = model.layers;  // the test vectors stay behind: lowering never reads them
  module.model.provenance = model.provenance;
  module.plans.resize(model.layers.size());
  module.program.config_hash = config.hash();
  for (const Pass& pass : pipeline()) {
    pass.run(module);
    if (after_pass) after_pass(pass, module);
  }
  return std::move(module.program);
}

std::string to_text(const Module& m) {
  const AcceleratorConfig& c = m.config;
  std::string out = fmt::format("config {} {}x{} w{}a{} acc{} (hash {:016x})\n", c.name, c.rows, c.cols, c.weight_bits, c.act_bits,
                                c.acc_bits, c.hash());
  const InputExpansion& e = m.program.input;
  if (e.active)
    out += fmt::format("input expansion: kernel {} stride {} pad {}: {} -> {}\n", e.kernel, e.stride, e.pad, to_string(e.image),
                       to_string(e.expanded()));
  const bool placed = m.program.tensors.size() == m.model.layers.size();
  for (std::size_t l = 0; l < m.model.layers.size(); ++l) {
    const Layer& L = m.model.layers[l];
    std::string inputs;
    for (int i : L.inputs) inputs += fmt::format("{}{}", inputs.empty() ? "" : ",", m.model.layers[static_cast<std::size_t>(i)].name);
    out += fmt::format("%{} = {}({}) -> {} {}{}", L.name, to_string(L.op), inputs, to_string(L.out.shape), L.out.is_signed ? "i" : "u",
                       L.out.bits);
    if (L.has_weights()) out += fmt::format(" k{} s{} p{} w{}", L.kernel_h, L.stride_h, L.pad_h, L.weight_bits);
    const LayerPlan& p = m.plans[l];
    if (p.band > 0)
      out += fmt::format(" | blocks {}x{} band {} spad {} acc {}{}", p.in_blocks, p.out_blocks, p.band, p.spad_double ? "x2" : "x1",
                         p.acc_double ? "x2" : "x1", p.products > 1 ? fmt::format(" products {}", p.products) : "");
    if (placed) {
      const TensorPlacement& t = m.program.tensors[l];
      out += fmt::format(" | dram @{:#x} c_pad {} lanes {}b", t.address, t.c_pad, t.lane_bits);
      if (L.has_weights()) out += fmt::format(" weights @{:#x}", p.weights);
      if (!p.params.empty()) out += fmt::format(" params @{:#x}", p.params.front());
    }
    if (l < m.program.layer_first.size()) {
      const std::size_t end = l + 1 < m.program.layer_first.size() ? m.program.layer_first[l + 1] : m.program.code.size() - 1;
      out += fmt::format(" | {} instructions", end - m.program.layer_first[l]);
    }
    out += "\n";
  }
  if (!m.program.dram.empty()) out += fmt::format("dram image: {} bytes\n", m.program.dram.size());
  if (!m.program.code.empty()) out += fmt::format("program: {} instructions\n", m.program.code.size());
  return out;
}

}  // namespace faq::compiler
