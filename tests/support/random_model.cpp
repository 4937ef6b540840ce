// Constrained-random single-layer models (tests/support/random_model.h).
#include "random_model.h"

namespace faq::testing {

int pick(Rng& rng, std::initializer_list<int> values) {
  return *(values.begin() + static_cast<std::ptrdiff_t>(rng() % values.size()));
}
int uniform(Rng& rng, int lo, int hi) { return lo + static_cast<int>(rng() % static_cast<std::uint64_t>(hi - lo + 1)); }

namespace {

Layer input_layer(Rng& rng, std::int64_t c, std::int64_t size) {
  Layer in;
  in.name = "input";
  in.op = OpKind::Input;
  in.out = {{c, size, size}, pick(rng, {2, 4, 8}), rng() % 2 == 0, 1.0};
  return in;
}

void add_conv(Rng& rng, Model& m, int from, int kernel, int stride, int pad, std::int64_t c_out, const std::string& name) {
  const Shape in = m.layers[static_cast<std::size_t>(from)].out.shape;
  Layer l;
  l.name = name;
  l.op = OpKind::Conv2d;
  l.inputs = {from};
  l.kernel_h = l.kernel_w = kernel;
  l.stride_h = l.stride_w = stride;
  l.pad_h = l.pad_w = pad;
  l.weight_bits = pick(rng, {2, 4, 8});
  l.out = {{c_out, (in.h + 2 * pad - kernel) / stride + 1, (in.w + 2 * pad - kernel) / stride + 1}, pick(rng, {2, 4, 8, 16}), rng() % 2 == 0, 1.0};
  l.weight.shape = {c_out, in.c, kernel, kernel};
  const auto wr = arith::weight_range(l.weight_bits);
  for (std::int64_t i = 0; i < c_out * in.c * kernel * kernel; ++i) l.weight.data.push_back(static_cast<std::int32_t>(wr.lo + static_cast<std::int64_t>(rng() % static_cast<std::uint64_t>(wr.hi - wr.lo + 1))));
  for (std::int64_t o = 0; o < c_out; ++o) {
    l.bias.push_back(uniform(rng, -2000, 2000));
    l.weight_scale.push_back(1.0f);
    l.requant.push_back({uniform(rng, 1 << 29, (1 << 30) - 1), uniform(rng, 26, 36)});
  }
  m.layers.push_back(std::move(l));
}

}  // namespace

Model random_model(Rng& rng) {
  Model m;
  const std::int64_t c = uniform(rng, 1, 20), size = uniform(rng, 1, 12);
  m.layers.push_back(input_layer(rng, c, size));
  const int kind = uniform(rng, 0, 9);
  if (kind < 6) {  // convolution
    int kernel = pick(rng, {1, 3, 5, 7});
    while (kernel > size + 2 * (kernel - 1)) kernel = 1;
    const int pad = uniform(rng, 0, std::min(kernel - 1, 3));
    const int stride = uniform(rng, 1, 3);
    if (size + 2 * pad < kernel) return random_model(rng);
    add_conv(rng, m, 0, kernel, stride, pad, uniform(rng, 1, 24), "conv");
  } else if (kind < 8) {  // pooling
    const bool average = kind == 7;
    const int kernel = uniform(rng, 1, std::min<int>(static_cast<int>(size), 5));
    const int pad = uniform(rng, 0, std::min(kernel - 1, 3));
    const int stride = uniform(rng, 1, 3);
    Layer l;
    l.name = "pool";
    l.op = average ? OpKind::AvgPool : OpKind::MaxPool;
    l.inputs = {0};
    l.kernel_h = l.kernel_w = kernel;
    l.stride_h = l.stride_w = stride;
    l.pad_h = l.pad_w = pad;
    l.out = m.layers[0].out;
    l.out.shape = {c, (size + 2 * pad - kernel) / stride + 1, (size + 2 * pad - kernel) / stride + 1};
    if (average) {
      l.out.bits = pick(rng, {2, 4, 8});
      l.requant = {arith::quantize_multiplier(1.0 / (kernel * kernel) * (uniform(rng, 1, 8) / 4.0))};
    }
    m.layers.push_back(std::move(l));
  } else {  // residual: add(conv1x1(input), input)
    add_conv(rng, m, 0, 1, 1, 0, c, "branch");
    Layer l;
    l.name = "add";
    l.op = OpKind::Add;
    l.inputs = {1, 0};
    l.out = {{c, size, size}, pick(rng, {2, 4, 8}), rng() % 2 == 0, 1.0};
    l.add = arith::quantize_add_multipliers(uniform(rng, 1, 9) / 50.0, uniform(rng, 1, 9) / 4.0, 1.0);
    m.layers.push_back(std::move(l));
  }
  m.validate("random model");
  return m;
}

IntTensor random_input(Rng& rng, const Model& m) {
  const auto& t = m.input().out;
  IntTensor x{{t.shape.c, t.shape.h, t.shape.w}, {}};
  const auto r = t.range();
  for (std::int64_t i = 0; i < t.shape.numel(); ++i) x.data.push_back(static_cast<std::int32_t>(r.lo + static_cast<std::int64_t>(rng() % static_cast<std::uint64_t>(r.hi - r.lo + 1))));
  return x;
}

}  // namespace faq::testing
