// Pass tile: for each convolution (and linear layer), the output is computed in bands of output rows. A band's
// accumulators (rows x out_w lines) must fit ACC and its zero-padded input rows, for every block of `rows` input
// channels (products x rows on a precision-scalable array), must fit SPAD. Preferred: bands that fit half of each buffer, so that the next band's input loads
// into the other SPAD half and the next group's accumulators fill the other ACC half while the previous group
// is stored (docs/cycle-model.md); otherwise the whole buffer, single-buffered.
#include "passes.h"

#include "faq/error.h"

#include <algorithm>

namespace faq::compiler {

namespace {

void tile_conv(const AcceleratorConfig& cfg, const Model& model, const Layer& L, LayerPlan& p) {
  const Shape in = model.layers[static_cast<std::size_t>(L.inputs[0])].out.shape;
  const bool linear = L.op == OpKind::Linear;
  p.kernel = linear ? 1 : L.kernel_h;
  p.stride = linear ? 1 : L.stride_h;
  p.pad = linear ? 0 : L.pad_h;
  p.products = layer_products(cfg, model.layers[static_cast<std::size_t>(L.inputs[0])].out.bits, L.weight_bits);
  const std::int64_t depth = std::int64_t{p.products} * cfg.rows;  // input channels per SPAD line
  p.in_blocks = (in.c + depth - 1) / depth;
  p.out_blocks = (L.out.shape.c + cfg.cols - 1) / cfg.cols;
  // a strided 1x1 convolution only needs every stride-th input pixel: the LOADs pick them (docs/compiler.md)
  p.subsample = p.kernel == 1 && p.pad == 0 && p.stride > 1 ? p.stride : 1;
  const std::int64_t out_h = L.out.shape.h, out_w = L.out.shape.w, padded_w = p.subsample > 1 ? out_w : in.w + 2 * p.pad;
  const std::int64_t step = p.stride / p.subsample;  // input rows per output row in SPAD
  auto spad_lines = [&](std::int64_t rows) { return p.in_blocks * ((rows - 1) * step + p.kernel) * padded_w; };
  auto largest = [&](std::int64_t acc, std::int64_t spad) {
    std::int64_t band = std::min(out_h, acc / out_w);
    while (band > 0 && spad_lines(band) > spad) --band;
    return band;
  };
  const std::int64_t acc = cfg.acc_lines(), spad = cfg.spad_lines();
  for (const auto& [acc_double, spad_double] : {std::pair{true, true}, {true, false}, {false, true}, {false, false}}) {
    const std::int64_t band = largest(acc_double ? acc / 2 : acc, spad_double ? spad / 2 : spad);
    if (band < 1) continue;
    p.band = band;
    p.acc_double = acc_double;
    p.spad_double = spad_double;
    return;
  }
  fail_input("no tiling fits: one output row needs {} ACC lines and {} SPAD lines (the buffers hold {} and {})", out_w,
             spad_lines(1), acc, spad);
}

}  // namespace

void tile(Module& m) {
  for (std::size_t l = 0; l < m.model.layers.size(); ++l) {
    const Layer& L = m.model.layers[l];
    if (!L.has_weights()) continue;
    try {
      tile_conv(m.config, m.model, L, m.plans[l]);
    } catch (const InputError& e) {
      fail_input("layer '{}': {}", L.name, e.what());
    }
  }
}

}  // namespace faq::compiler
