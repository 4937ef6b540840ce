// Pass expand-input: a first convolution over few channels (an RGB or grayscale image) would fill only C of the
// array's rows; as a 1x1 convolution over the im2col-expanded input (every output pixel's k x k x C window as
// channels, zero outside the image) it fills ceil(k*k*C / rows) row blocks instead of k*k blocks of C rows.
// The host stores the expanded input (place_input); the result is identical. Skipped where the expanded input
// would not tile (small SPAD), or would not fill fewer row blocks.
#include "passes.h"

namespace faq::compiler {

void expand_input(Module& m) {
  auto& layers = m.model.layers;
  int consumers = 0;
  std::size_t conv = 0;
  for (std::size_t l = 1; l < layers.size(); ++l)
    for (int i : layers[l].inputs)
      if (i == 0) ++consumers, conv = l;
  if (consumers != 1 || layers[conv].op != OpKind::Conv2d || layers[conv].groups != 1) return;
  Layer& L = layers[conv];
  // input channels per row block: rows, times the products per PE on a precision-scalable array
  const std::int64_t c = layers[0].out.shape.c, k = L.kernel_h, R = std::int64_t{m.config.rows} * layer_products(m.config, layers[0].out.bits, L.weight_bits);
  const std::int64_t window = k * k * c;
  if ((window + R - 1) / R >= (c + R - 1) / R * k * k) return;  // no fewer row blocks: keep it
  // The 1x1 convolution must still tile: one output row of every row block in SPAD (pass tile needs it).
  if ((window + R - 1) / R * L.out.shape.w > m.config.spad_lines()) return;

  InputExpansion& e = m.program.input;
  e = {.active = true, .image = layers[0].out.shape, .kernel = L.kernel_h, .stride = L.stride_h, .pad = L.pad_h};
  layers[0].out.shape = e.expanded();
  const std::int64_t outs = L.out.shape.c;
  std::vector<std::int32_t> weight(static_cast<std::size_t>(outs * window));
  for (std::int64_t o = 0; o < outs; ++o)
    for (std::int64_t ci = 0; ci < c; ++ci)
      for (std::int64_t ky = 0; ky < k; ++ky)
        for (std::int64_t kx = 0; kx < k; ++kx)
          weight[static_cast<std::size_t>(o * window + (ky * k + kx) * c + ci)] =
              L.weight.data[static_cast<std::size_t>(((o * c + ci) * k + ky) * k + kx)];
  L.weight = {{outs, window, 1, 1}, std::move(weight)};
  L.kernel_h = L.kernel_w = 1;
  L.stride_h = L.stride_w = 1;
  L.pad_h = L.pad_w = 0;
}

}  // namespace faq::compiler
