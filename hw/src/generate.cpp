// Generators of the datapath modules. Each function builds one module through the Verilog builder; widths come
// from Widths, the arithmetic is the contract's (docs/arithmetic.md) and is checked against faq/arithmetic.h by
// the Verilator tests in tests/hw/.
#include "faq/hw/generate.h"

#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <bit>

namespace faq::hw {

Widths::Widths(const AcceleratorConfig& c)
    : act(c.scalable ? kScalableActBits : c.act_bits + 1), weight(c.scalable ? kScalableWeightBits : c.weight_bits), psum(c.acc_bits) {}

namespace {

// The precision-scalable PE (docs/hw.md, "Precision-scalable PE"): four 5x5-bit signed multipliers whose products
// are shifted by the mode and summed into one partial sum: one 9x8 product (W8A8), the sum of two 9x4 (W4A8) or
// 5x8 (W8A4) products, or of four 5x4 products (W4A4). LOAD arranges each PE's operands as the multipliers take
// them, so that the PE has no operand multiplexers: nibble k of the activation word and of the weight word feed
// multiplier k, extended to five bits by the nibble's sign where the mode says it is signed.
Module scalable_pe_module(const AcceleratorConfig& config) {
  const int acc = config.acc_bits;
  Module m("faq_pe", "precision-scalable processing element: four 5x5 multipliers summing 1 (W8A8), 2 (W4A8, W8A4) or 4 (W4A4) products");
  const auto clk = m.input("clk");
  // the mode travels with each activation, like its valid and bank bits (no broadcast across the array)
  const auto mode = m.input("mode_in", kScalableModeBits);
  const auto a_in = m.input("a_in", kScalableActBits);
  const auto a_valid_in = m.input("a_valid_in");
  const auto a_bank_in = m.input("a_bank_in");
  const auto psum_in = m.input("psum_in", acc, true);
  const auto w_in0 = m.input("w_in0", kScalableWeightBits), w_in1 = m.input("w_in1", kScalableWeightBits);
  const auto w_shift = m.input("w_shift");
  const auto w_bank = m.input("w_bank");
  const auto a_out = m.output_reg("a_out", kScalableActBits);
  const auto a_valid_out = m.output_reg("a_valid_out");
  const auto a_bank_out = m.output_reg("a_bank_out");
  const auto mode_out = m.output_reg("mode_out", kScalableModeBits);
  const auto psum_out = m.output_reg("psum_out", acc, true);
  const auto w_out0 = m.output("w_out0", kScalableWeightBits), w_out1 = m.output("w_out1", kScalableWeightBits);
  const auto w0 = m.reg("w0", kScalableWeightBits), w1 = m.reg("w1", kScalableWeightBits);
  const auto w = m.wire("w", kScalableWeightBits);
  m.assign(w, fmt::format("{} ? {} : {}", a_bank_in.name, w1.name, w0.name));
  m.assign(w_out0, w0);
  m.assign(w_out1, w1);
  // Operand nibbles per mode (docs/hw.md): activation [vL, vL, vH, vH] W8A8, [v0L, v0H, v1L, v1H] W4A8,
  // [a0, a0, a1, a1] W8A4, [a0, a1, a2, a3] W4A4; weight [wL, wH, wL, wH] W8A8, [w0, w0, w1, w1] W4A8,
  // [w0L, w0H, w1L, w1H] W8A4, [w0, w1, w2, w3] W4A4. Signed: an activation nibble that is a 4-bit value or a high
  // nibble, when the activations are signed (mode bit 2); a weight nibble that is a 4-bit weight or a high nibble.
  const std::string a4 = "mode_in[0]", w4 = "mode_in[1]", sa = "mode_in[2]";
  const std::array<std::string, 4> a_signed = {
      fmt::format("{} && {}", sa, a4), fmt::format("{} && ({} || {})", sa, a4, w4), fmt::format("{} && ({} || !{})", sa, a4, w4),
      sa};
  const std::array<std::string, 4> w_signed = {w4, "1'b1", w4, "1'b1"};
  std::vector<std::string> mk;
  for (std::size_t k = 0; k < 4; ++k) {
    const auto xs = m.wire(fmt::format("x{}", k), 5, true), ys = m.wire(fmt::format("y{}", k), 5, true);
    const int lo = 4 * static_cast<int>(k), hi = lo + 3;
    // invalid cycles add nothing
    m.assign(xs, fmt::format("{} ? {{({}) && {}[{}], {}[{}:{}]}} : 5'sd0", a_valid_in.name, a_signed[k], a_in.name, hi, a_in.name, hi, lo));
    m.assign(ys, fmt::format("{{({}) && {}[{}], {}[{}:{}]}}", w_signed[k], w.name, hi, w.name, hi, lo));
    const auto pk = m.wire(fmt::format("m{}", k), 10, true);
    m.assign(pk, fmt::format("{} * {}", xs.name, ys.name));  // 5x5 signed
    mk.push_back(pk.name);
  }
  // The products' shifts are W8A8 (0, 4, 4, 8), W4A8 and W8A4 (0, 4, 0, 4), W4A4 (0, 0, 0, 0), summed as a tree of
  // two levels (Bit Fusion's fusion): pairs p = m0 + m2·2^s and q = m1 + m3·2^s (s = 4 in W8A8, else 0), then
  // p + q·2^t (t = 0 in W4A4, else 4). |product| <= 256: p and q fit 15 bits, the sum 20.
  const auto p = m.wire("pair0", 15, true), q = m.wire("pair1", 15, true), sum = m.wire("sum", 20, true);
  const std::string w8a8 = fmt::format("!{} && !{}", a4, w4), w4a4 = fmt::format("{} && {}", a4, w4);
  m.assign(p, fmt::format("{} + (({}) ? ({} <<< 4) : {})", widen(mk[0], 10, 15), w8a8, widen(mk[2], 10, 15), widen(mk[2], 10, 15)));
  m.assign(q, fmt::format("{} + (({}) ? ({} <<< 4) : {})", widen(mk[1], 10, 15), w8a8, widen(mk[3], 10, 15), widen(mk[3], 10, 15)));
  m.assign(sum, fmt::format("{} + (({}) ? {} : ({} <<< 4))", widen(p.name, 15, 20), w4a4, widen(q.name, 15, 20), widen(q.name, 15, 20)));
  // the sum is registered before the accumulation (a pipeline stage: every PE's contribution one cycle later, so
  // the array keeps its alignment and its latency grows by one, timing::array_latency)
  const auto staged = m.reg("sum_q", 20, true);
  const std::string extended = acc <= 20 ? fmt::format("sum_q[{}:0]", acc - 1) : fmt::format("{{{{{}{{sum_q[19]}}}}, sum_q}}", acc - 20);
  m.always_ff(clk, [&](Block& b) {
    b.assign(a_out, a_in).assign(a_valid_out, a_valid_in).assign(a_bank_out, a_bank_in).assign(mode_out, mode);
    b.assign(staged, sum);
    b.assign(psum_out, fmt::format("{} + {}", psum_in.name, extended));
    b.if_(w_shift, [&](Block& t) {
      t.if_(w_bank, [&](Block& xb) { xb.assign(w1, w_in1); }, [&](Block& xb) { xb.assign(w0, w_in0); });
    });
  });
  return m;
}

// psum + (valid ? a * weight : 0) as radix-4 Booth digits of the weight (pe_booth, docs/hw.md): digit k of a
// weight of W bits is d_k = -2·w[2k+1] + w[2k] + w[2k-1] (w[-1] = 0) in {-2, ..., 2}, so that weight = Σ d_k·4^k.
// Each digit selects 0, a or 2a (m_k, one bit wider than a), inverted when the digit is negative; the sum adds
// them by one adder per digit, digit k into bits 2k and up, with the digit's sign as the adder's carry in (the
// two's complement's +1): on a LUT4 FPGA each adder is one carry chain whose LUTs take the selected bits, not a
// multiplier's array of partial products and then an adder (the HX8K's 14x2 W4A4 array: 1,446 LUT4 against
// 1,789, docs/hw.md). The result is the same sum modulo 2^acc_bits. An invalid cycle selects nothing and inverts nothing: it adds 0.
std::string booth_sum(Module& m, const std::string& a, const std::string& valid, const std::string& weight,
                      const std::string& psum, const Widths& w) {
  // acc_bits >= weight_bits + act_bits (config.cpp), so every digit's bits 2k and up hold the multiple: P - 2k >= mw
  const int digits = w.weight / 2, mw = w.act + 1, P = w.psum;
  std::string sum = psum;
  for (int k = 0; k < digits; ++k) {
    const std::string b2 = fmt::format("{}[{}]", weight, 2 * k + 1), b1 = fmt::format("{}[{}]", weight, 2 * k);
    const std::string b0 = k == 0 ? "1'b0" : fmt::format("{}[{}]", weight, 2 * k - 1);
    const auto one = m.wire(fmt::format("one{}", k)), two = m.wire(fmt::format("two{}", k)), neg = m.wire(fmt::format("neg{}", k));
    m.assign(one, fmt::format("{} && ({} ^ {})", valid, b1, b0));
    m.assign(two, fmt::format("{} && ({} ? !{} && !{} : {} && {})", valid, b2, b1, b0, b1, b0));
    m.assign(neg, fmt::format("{} && {}", valid, b2));
    // the selected multiple, inverted when negative (the +1 is the adder's carry in)
    const auto sel = m.wire(fmt::format("m{}", k), mw);
    m.assign(sel, fmt::format("(({} ? {} : {}) | ({} ? {{{}, 1'b0}} : {})) ^ {{{}{{{}}}}}", one.name, widen(a, w.act, mw),
                              lit(mw, 0), two.name, a, lit(mw, 0), mw, neg.name));
    // bits 2k and up of the sum: the part above the digit plus the selected multiple, sign-extended
    const int width = P - 2 * k;
    const std::string above = k == 0 ? psum : fmt::format("{}[{}:{}]", sum, P - 1, 2 * k);
    const std::string addend = mw == width ? sel.name : widen(sel.name, mw, width);
    m.lint_off("UNUSEDSIGNAL");  // bit 0 is the carry in's place
    const auto s = m.wire(fmt::format("s{}", k), width + 1);
    m.lint_on("UNUSEDSIGNAL");
    m.assign(s, fmt::format("{{{}, 1'b1}} + {{{}, {}}}", above, addend, neg.name));
    const auto next = m.wire(fmt::format("acc{}", k), P, true);
    m.assign(next, k == 0 ? fmt::format("{}[{}:1]", s.name, width) : fmt::format("{{{}[{}:1], {}[{}:0]}}", s.name, width, sum, 2 * k - 1));
    sum = next.name;
  }
  return sum;
}

}  // namespace

Module pe_module(const AcceleratorConfig& config) {
  if (config.scalable) return scalable_pe_module(config);
  const Widths w(config);
  const bool tree = config.adder_tree;  // the array registers the sums: the PE is combinational but for its weights
  const bool alone = tree && config.parallel_pairs;  // the PE makes its product alone: the array adds the pair
  Module m("faq_pe", alone  ? "processing element: weight-stationary product for a column's adder tree, two weight banks"
                     : tree ? "processing element: weight-stationary multiply-add for a column's adder tree, two weight banks"
                            : "processing element: weight-stationary MAC, two weight banks");
  const auto clk = m.input("clk");
  const auto a_in = m.input("a_in", w.act, true);
  const auto a_valid_in = m.input("a_valid_in");
  const auto a_bank_in = m.input("a_bank_in");
  const Signal psum_in = alone ? Signal{} : m.input("psum_in", w.psum, true);
  const std::string psum = alone ? lit(w.psum, 0, true) : psum_in.name;
  const auto w_in0 = m.input("w_in0", w.weight, true), w_in1 = m.input("w_in1", w.weight, true);
  const auto w_shift = m.input("w_shift");
  const auto w_bank = m.input("w_bank");
  const Signal a_out = tree ? Signal{} : m.output_reg("a_out", w.act, true);
  const Signal a_valid_out = tree ? Signal{} : m.output_reg("a_valid_out");
  const Signal a_bank_out = tree ? Signal{} : m.output_reg("a_bank_out");
  const auto psum_out = tree ? m.output("psum_out", w.psum, true) : m.output_reg("psum_out", w.psum, true);
  const auto w_out0 = m.output("w_out0", w.weight, true), w_out1 = m.output("w_out1", w.weight, true);
  const auto w0 = m.reg("w0", w.weight, true);
  const auto w1 = m.reg("w1", w.weight, true);
  const int product_width = w.act + w.weight;
  const auto weight = m.wire("weight", w.weight, true);
  m.assign(weight, fmt::format("{} ? {} : {}", a_bank_in.name, w1.name, w0.name));
  m.assign(w_out0, w0);
  m.assign(w_out1, w1);
  // The sum wraps at the accumulator width, like the contract's accumulators (the product is sign-extended, or
  // keeps its low bits where it is wider).
  std::string next_psum;
  if (config.pe_booth) {
    next_psum = booth_sum(m, a_in.name, a_valid_in.name, weight.name, psum, w);
  } else {
    const auto product = m.wire("product", product_width, true);
    m.assign(product, fmt::format("{} ? {} * {} : {}", a_valid_in.name, a_in.name, weight.name, lit(product_width, 0, true)));
    const auto extended = m.wire("product_ext", w.psum, true);
    m.assign(extended, product_width >= w.psum ? fmt::format("{}[{}:0]", product.name, w.psum - 1)
                                                : widen(product.name, product_width, w.psum));
    next_psum = alone ? extended.name : fmt::format("{} + {}", psum, extended.name);
  }
  if (tree) m.assign(psum_out, next_psum);
  m.always_ff(clk, [&](Block& b) {
    if (!tree) {
      b.assign(a_out, a_in).assign(a_valid_out, a_valid_in).assign(a_bank_out, a_bank_in);
      b.assign(psum_out, next_psum);
    }
    b.if_(w_shift, [&](Block& t) {
      t.if_(w_bank, [&](Block& x) { x.assign(w1, w_in1); }, [&](Block& x) { x.assign(w0, w_in0); });
    });
  });
  return m;
}

namespace {

// The bits a sum of n products needs: an activation lies in [-2^(act_bits-1), 2^act_bits - 1] (a signed or an
// unsigned lane), a weight is a signed weight_bits one, so a product's magnitude is below 2^(act_bits + weight_bits
// - 1) and n of them fit act_bits + weight_bits + ceil(log2 n) bits; at most the accumulator's (sums wrap there).
int sum_bits(const AcceleratorConfig& config, int n) {
  return std::min(config.acc_bits, config.act_bits + config.weight_bits + static_cast<int>(std::bit_width(static_cast<unsigned>(n - 1))));
}

// The array's ports, the same for every kind of column (the mode only with scalable PEs).
struct ArrayPorts {
  Signal clk, mode, a_line, a_valid, a_bank, w_line, w_shift, w_bank, out_line, out_valid;
};
ArrayPorts array_ports(Module& m, const AcceleratorConfig& config, const Widths& w) {
  ArrayPorts p;
  p.clk = m.input("clk");
  if (config.scalable) p.mode = m.input("mode", kScalableModeBits);
  p.a_line = m.input("a_line", config.rows * w.act);
  p.a_valid = m.input("a_valid");
  p.a_bank = m.input("a_bank");
  p.w_line = m.input("w_line", config.cols * w.weight);
  p.w_shift = m.input("w_shift");
  p.w_bank = m.input("w_bank");
  p.out_line = m.output("out_line", config.cols * w.psum);
  p.out_valid = m.output("out_valid");
  return p;
}

// adder_tree (docs/hw.md, "Adder-tree array"): the activation line, its valid and bank bits are registered once
// and reach every PE of their row in the same cycle; in each column PEs 2j and 2j + 1 form a pair (2j's sum feeds
// 2j + 1's psum_in; with parallel_pairs each makes its product alone and the array adds the two), whose sum is
// registered, and a tree of registered adders sums the pairs. A sum of n products
// needs act_bits + weight_bits + ceil(log2 n) bits (at most acc_bits): each register keeps those. The output line
// leaves array_latency edges after its input line, every column together (no skew, no de-skew).
Module tree_array_module(const AcceleratorConfig& config) {
  const Widths w(config);
  const int R = config.rows, C = config.cols, P = w.psum;
  Module m("faq_array", fmt::format("{}x{} weight-stationary array, each column's products summed by a pipelined adder tree", R, C));
  const auto [clk, mode, a_line, a_valid, a_bank, w_line, w_shift, w_bank, out_line, out_valid] = array_ports(m, config, w);
  auto bits = [&](int n) { return sum_bits(config, n); };
  const bool parallel = config.parallel_pairs;
  m.comment("the input register: the line reaches every PE of its row in the next cycle");
  const auto a_q = m.reg("a_q", R * w.act), v_q = m.reg("v_q"), b_q = m.reg("b_q");
  m.always_ff(clk, [&](Block& b) { b.assign(a_q, a_line).assign(v_q, a_valid).assign(b_q, a_bank); });
  m.lint_off("UNUSEDSIGNAL");  // the bottom edge of the weight chains; the high bits of the PEs' sums
  const auto w_v0 = m.wire("w_v0", (R + 1) * C * w.weight), w_v1 = m.wire("w_v1", (R + 1) * C * w.weight);
  const auto p_pe = m.wire("p_pe", R * C * P);
  m.lint_on("UNUSEDSIGNAL");
  m.comment("the weight line enters both banks' chains of every column");
  for (int c = 0; c < C; ++c)
    for (const auto& chain : {w_v0, w_v1})
      m.assign(fmt::format("{}[{}+:{}]", chain.name, c * w.weight, w.weight), fmt::format("{}[{}+:{}]", w_line.name, c * w.weight, w.weight));
  for (int r = 0; r < R; ++r)
    for (int c = 0; c < C; ++c) {
      const int i = r * C + c;
      std::vector<std::pair<std::string, std::string>> ports = {
          {"clk", clk}, {"a_in", fmt::format("{}[{}+:{}]", a_q.name, r * w.act, w.act)}, {"a_valid_in", v_q}, {"a_bank_in", b_q}};
      if (!parallel)  // a pair's second PE adds onto the first's sum
        ports.push_back({"psum_in", r % 2 == 1 ? fmt::format("{}[{}+:{}]", p_pe.name, (i - C) * P, P) : lit(P, 0, true)});
      ports.insert(ports.end(), {{"w_in0", fmt::format("{}[{}+:{}]", w_v0.name, i * w.weight, w.weight)},
                                 {"w_in1", fmt::format("{}[{}+:{}]", w_v1.name, i * w.weight, w.weight)}, {"w_shift", w_shift}, {"w_bank", w_bank},
                                 {"psum_out", fmt::format("{}[{}+:{}]", p_pe.name, i * P, P)},
                                 {"w_out0", fmt::format("{}[{}+:{}]", w_v0.name, (i + C) * w.weight, w.weight)},
                                 {"w_out1", fmt::format("{}[{}+:{}]", w_v1.name, (i + C) * w.weight, w.weight)}});
      m.instance("faq_pe", fmt::format("pe_{}_{}", r, c), ports);
    }
  // level 0: the pairs' sums (a last row alone when rows is odd), each of the products it holds (with
  // parallel_pairs a product needs sum_bits(1) of its PE's bits, the pair's sum sum_bits(2))
  struct Node {
    std::string value;  // an expression of `width` bits
    int width, products;
  };
  std::vector<std::vector<Node>> level(static_cast<std::size_t>(C));
  for (int c = 0; c < C; ++c) {
    auto& nodes = level[static_cast<std::size_t>(c)];
    for (int r = 0; r < R; r += 2) {
      const bool alone = r + 1 == R;  // a last row alone when rows is odd
      if (!parallel) {  // the pair's sum is its second PE's
        const int last = alone ? r : r + 1, n = alone ? 1 : 2;
        nodes.push_back({fmt::format("{}[{}+:{}]", p_pe.name, (last * C + c) * P, bits(n)), bits(n), n});
        continue;
      }
      auto product = [&](int row) {  // a named wire, so that it can be sign-extended by a bit select
        const auto x = m.wire(fmt::format("product_{}_{}", row, c), bits(1), true);
        m.assign(x, fmt::format("{}[{}+:{}]", p_pe.name, (row * C + c) * P, bits(1)));
        return x.name;
      };
      const std::string first = product(r);
      if (alone) {
        nodes.push_back({first, bits(1), 1});
        continue;
      }
      const std::string second = product(r + 1);
      nodes.push_back({fmt::format("{} + {}", widen(first, bits(1), bits(2)), widen(second, bits(1), bits(2))), bits(2), 2});
    }
  }
  std::string valid = v_q.name;
  for (int stage = 0;; ++stage) {
    // register this level (the pairs, then each sum of two nodes of the level before)
    const auto v = m.reg(fmt::format("v_{}", stage));
    m.always_ff(clk, [&](Block& b) { b.assign(v, valid); });
    valid = v.name;
    for (int c = 0; c < C; ++c) {
      auto& nodes = level[static_cast<std::size_t>(c)];
      for (std::size_t j = 0; j < nodes.size(); ++j) {
        const auto q = m.reg(fmt::format("s_{}_{}_{}", stage, c, j), nodes[j].width, true);
        m.always_ff(clk, [&](Block& b) { b.assign(q, nodes[j].value); });
        nodes[j].value = q.name;
      }
    }
    if (level[0].size() == 1) break;
    for (int c = 0; c < C; ++c) {  // the next level: sums of two, sign-extended to the bits their products need
      auto& nodes = level[static_cast<std::size_t>(c)];
      std::vector<Node> next;
      for (std::size_t j = 0; j < nodes.size(); j += 2) {
        if (j + 1 == nodes.size()) {
          next.push_back(nodes[j]);
          continue;
        }
        const int n = nodes[j].products + nodes[j + 1].products, width = bits(n);
        auto extend = [&](const Node& x) { return widen(x.value, x.width, width); };  // (as it is when as wide)
        next.push_back({fmt::format("{} + {}", extend(nodes[j]), extend(nodes[j + 1])), width, n});
      }
      nodes = next;
    }
  }
  for (int c = 0; c < C; ++c) {
    const Node& sum = level[static_cast<std::size_t>(c)][0];
    m.assign(fmt::format("{}[{}+:{}]", out_line.name, c * P, P), widen(sum.value, sum.width, P));
  }
  m.assign(out_valid, valid);
  return m;
}

}  // namespace

Module array_module(const AcceleratorConfig& config) {
  if (config.adder_tree) return tree_array_module(config);
  const Widths w(config);
  const bool scalable = config.scalable;  // the PE takes a precision mode, which travels with the activations
  const int R = config.rows, C = config.cols;
  Module m("faq_array", fmt::format("{}x{} weight-stationary systolic array{} with input skew and output de-skew", R, C,
                                    scalable ? " of precision-scalable PEs" : ""));
  const auto [clk, mode, a_line, a_valid, a_bank, w_line, w_shift, w_bank, out_line, out_valid] = array_ports(m, config, w);
  // Horizontal nets: a/valid/bank entering PE (r, c) from the left; column C is the right edge (unused).
  m.lint_off("UNUSEDSIGNAL");
  const auto a_h = m.wire("a_h", R * (C + 1) * w.act);
  const auto v_h = m.wire("v_h", R * (C + 1));
  const auto b_h = m.wire("b_h", R * (C + 1));
  const Signal mode_h = scalable ? m.wire("mode_h", R * (C + 1) * kScalableModeBits) : Signal{};
  // Vertical nets: partial sums and each bank's weights entering PE (r, c) from above; row R is the bottom edge.
  const auto p_v = m.wire("p_v", (R + 1) * C * w.psum);
  const auto w_v0 = m.wire("w_v0", (R + 1) * C * w.weight), w_v1 = m.wire("w_v1", (R + 1) * C * w.weight);
  m.lint_on("UNUSEDSIGNAL");
  // The partial sum leaving row r holds what r + 1 PEs added. An activation is a signed or an unsigned lane of at
  // most act_bits bits (in [-2^(act_bits-1), 2^act_bits - 1], though its port has a bit more), a weight a signed
  // weight_bits one, so a product's magnitude is below 2^(act_bits + weight_bits - 1); so is a scalable PE's sum of
  // two or four narrower products (W8A8 PEs: at most 2 x 15 x 128 for W4A8). The sum then needs
  // act_bits + weight_bits + ceil(log2(r + 1)) bits (at most the accumulator's). Row r + 1 takes only those low
  // bits, sign-extended, so that synthesis keeps no more of each PE's register and adder than its row needs.
  auto row_bits = [&](int r) { return sum_bits(config, r + 1); };  // the sum leaving row r
  const auto p_in = m.wire("p_in", R * C * w.psum);
  {
    m.comment("each row's partial sums in, from the low bits the row above needs (sign-extended)");
    for (int r = 0; r < R; ++r) {
      const int keep = r == 0 ? w.psum : row_bits(r - 1);
      m.generate_for("c", C, fmt::format("sums_in_{}", r), [&](Module& g) {
        const std::string above = fmt::format("{}[({}+c)*{}+:{}]", p_v.name, r * C, w.psum, keep);
        const std::string top = fmt::format("{}[({}+c)*{}+{}]", p_v.name, r * C, w.psum, keep - 1);
        g.assign(fmt::format("{}[({}+c)*{}+:{}]", p_in.name, r * C, w.psum, w.psum), sign_extend(above, top, w.psum - keep));
      });
    }
  }
  m.comment("input skew: row r's lane passes r + 1 registers (one common input register, r of skew)");
  for (int r = 0; r < R; ++r) {
    // One shift register per row holding (activation, valid, bank) per stage; stage r feeds the row.
    const int stage = w.act + 2 + (scalable ? kScalableModeBits : 0), stages = r + 1;  // {[mode,] bank, valid, activation}
    const auto d = m.reg(fmt::format("skew_{}", r), stage * stages);
    const std::string fresh = fmt::format("{{{}{}, {}, {}[{}+:{}]}}", scalable ? mode.name + ", " : "", a_bank.name, a_valid.name, a_line.name,
                                          r * w.act, w.act);
    m.always_ff(clk, [&](Block& b) {
      b.assign(d, stages == 1 ? fresh : fmt::format("{{{}[{}:0], {}}}", d.name, stage * (stages - 1) - 1, fresh));
    });
    const int top = stage * stages;  // the last stage: bits [top-1 : top-stage]
    m.assign(fmt::format("{}[{}+:{}]", a_h.name, r * (C + 1) * w.act, w.act), fmt::format("{}[{}+:{}]", d.name, top - stage, w.act));
    m.assign(fmt::format("{}[{}]", v_h.name, r * (C + 1)), fmt::format("{}[{}]", d.name, top - stage + w.act));
    m.assign(fmt::format("{}[{}]", b_h.name, r * (C + 1)), fmt::format("{}[{}]", d.name, top - stage + w.act + 1));
    if (scalable)
      m.assign(fmt::format("{}[{}+:{}]", mode_h.name, r * (C + 1) * kScalableModeBits, kScalableModeBits),
               fmt::format("{}[{}+:{}]", d.name, top - stage + w.act + 2, kScalableModeBits));
  }
  m.comment("the top edge: no partial sum; the weight line enters both banks' chains of every column");
  m.generate_for("c", C, "top", [&](Module& g) {
    g.assign(fmt::format("{}[c*{}+:{}]", p_v.name, w.psum, w.psum), lit(w.psum, 0, true));
    for (const auto& chain : {w_v0, w_v1})
      g.assign(fmt::format("{}[c*{}+:{}]", chain.name, w.weight, w.weight), fmt::format("{}[c*{}+:{}]", w_line.name, w.weight, w.weight));
  });
  m.generate_for("r", R, "row", [&](Module& g) {
    g.generate_for("c", C, "col", [&](Module& h) {
      const auto idx = fmt::format("(r*{}+c)", C + 1), idx_next = fmt::format("(r*{}+c+1)", C + 1);
      const auto vin = fmt::format("(r*{}+c)", C), vout = fmt::format("((r+1)*{}+c)", C);
      std::vector<std::pair<std::string, std::string>> ports = {{"clk", clk},
                  {"a_in", fmt::format("{}[{}*{}+:{}]", a_h.name, idx, w.act, w.act)},
                  {"a_valid_in", fmt::format("{}[{}]", v_h.name, idx)},
                  {"a_bank_in", fmt::format("{}[{}]", b_h.name, idx)},
                  {"psum_in", fmt::format("{}[{}*{}+:{}]", p_in.name, vin, w.psum, w.psum)},
                  {"w_in0", fmt::format("{}[{}*{}+:{}]", w_v0.name, vin, w.weight, w.weight)},
                  {"w_in1", fmt::format("{}[{}*{}+:{}]", w_v1.name, vin, w.weight, w.weight)},
                  {"w_shift", w_shift},
                  {"w_bank", w_bank},
                  {"a_out", fmt::format("{}[{}*{}+:{}]", a_h.name, idx_next, w.act, w.act)},
                  {"a_valid_out", fmt::format("{}[{}]", v_h.name, idx_next)},
                  {"a_bank_out", fmt::format("{}[{}]", b_h.name, idx_next)},
                  {"psum_out", fmt::format("{}[{}*{}+:{}]", p_v.name, vout, w.psum, w.psum)},
                  {"w_out0", fmt::format("{}[{}*{}+:{}]", w_v0.name, vout, w.weight, w.weight)},
                  {"w_out1", fmt::format("{}[{}*{}+:{}]", w_v1.name, vout, w.weight, w.weight)}};
      if (scalable) {
        ports.emplace_back("mode_in", fmt::format("{}[{}*{}+:{}]", mode_h.name, idx, kScalableModeBits, kScalableModeBits));
        ports.emplace_back("mode_out", fmt::format("{}[{}*{}+:{}]", mode_h.name, idx_next, kScalableModeBits, kScalableModeBits));
      }
      h.instance("faq_pe", "pe", ports);
    });
  });
  m.comment("output de-skew: column c passes C - c registers, so that the whole line leaves together");
  const int sb = row_bits(R - 1);  // the bits of a column's sum (sign-extended to the accumulator's width)
  for (int c = 0; c < C; ++c) {
    const int stages = C - c;
    const auto d = m.reg(fmt::format("deskew_{}", c), sb * stages);
    const std::string fresh = fmt::format("{}[{}+:{}]", p_v.name, (R * C + c) * w.psum, sb);
    m.always_ff(clk, [&](Block& b) {
      b.assign(d, stages == 1 ? fresh : fmt::format("{{{}[{}:0], {}}}", d.name, sb * (stages - 1) - 1, fresh));
    });
    const std::string sum = fmt::format("{}[{}+:{}]", d.name, sb * (stages - 1), sb);
    m.assign(fmt::format("{}[{}+:{}]", out_line.name, c * w.psum, w.psum),
             sign_extend(sum, fmt::format("{}[{}]", d.name, sb * stages - 1), w.psum - sb));
  }
  // The valid bit of the last column travels with its partial sum (the PE's output register, then d[0]; in a
  // scalable PE the registered sum first).
  const auto last_valid = m.reg("last_valid"), out_valid_reg = m.reg("out_valid_reg");
  const std::string entering = fmt::format("{}[{}]", v_h.name, (R - 1) * (C + 1) + C - 1);
  if (scalable) m.reg("sum_valid");
  m.always_ff(clk, [&](Block& b) {
    if (scalable) b.assign("sum_valid", entering);
    b.assign(last_valid, scalable ? std::string("sum_valid") : entering);
    b.assign(out_valid_reg, last_valid);
  });
  m.assign(out_valid, out_valid_reg);
  return m;
}

Module post_module(int mult_cycles, bool dsp16) {
  const int D = mult_cycles, w = 32 / D;  // digit-serial (D > 1): w bits of q and s per cycle, most significant first
  Module m("faq_post", fmt::format("post-processing lane: requantize (STORE, average POOL) or residual add (VADD), {} stages{}{}",
                                   timing::lane_latency(D, dsp16), D == 1 ? "" : fmt::format(", digit-serial: an element every {} cycles (`load`)", D),
                                   dsp16 ? ", products shaped for 16 x 16 DSP blocks" : ""));
  const auto clk = m.input("clk");
  if (D > 1) m.input("load");
  const auto mode_add = m.input("mode_add");
  const auto x = m.input("x", 32, true);
  const auto y = m.input("y", kLaneValueBits, true);
  const auto a = m.input("a", 32, true);
  const auto b = m.input("b", 32, true);
  const auto shift = m.input("shift", 6);
  const auto lo = m.input("lo", kSaturationBits, true);
  const auto hi = m.input("hi", kSaturationBits, true);
  const auto out = m.output_reg("out", 64, true);
  // stage 1: operands of the two products p x q and r x s (q and s 32-bit multipliers), their sum p x q + r x s,
  // with r x s placed 16 bits up when s1_wide. VADD (mode_add): x x a + y x b, x and y values of at most 16 bits
  // (kLaneValueBits; x's port is 32 bits for STORE's accumulators, only its low 17 are read). STORE and average
  // POOL: v x b with v = wrap32(x + a), split as v[15:0] x b + (v[31:16] x b << 16), the low half unsigned, so that
  // both modes take two 17 x 32 products instead of a 32 x 32 and a 17 x 32 (a third less lane in standard cells
  // and in LUTs). With dsp16 v x b is one 32 x 32 product (r = 0), which 16 x 16 DSP blocks take in four exact
  // pieces where a 17-bit operand would need a correction row in logic beside its two.
  const int vb = kLaneValueBits, pb = dsp16 ? 32 : vb;  // widths of r and p
  const auto s1_p = m.reg("s1_p", pb, true), s1_q = m.reg("s1_q", 32, true), s1_r = m.reg("s1_r", vb, true), s1_s = m.reg("s1_s", 32, true);
  if (!dsp16) m.reg("s1_wide");
  const auto s1_shift = m.reg("s1_shift", 6), s2_shift = m.reg("s2_shift", 6);
  const auto biased = m.wire("biased", 32, true);
  m.assign(biased, fmt::format("{} + {}", x.name, a.name));  // 32-bit: wraps like the contract's wrap32
  // stage 2: the sum of products, exact in 64 bits
  const auto s2_sum = m.reg("s2_sum", 64, true);
  // (a digit-serial lane's products at their own width, (w + 1)-bit digits: sign-extended where they are summed)
  const int qw = D == 1 ? 32 : w + 1;
  // the second product at its place in the sum (wide: the name of the flag that places it 16 bits up)
  auto placed = [&](const std::string& product, const std::string& wide) {
    const std::string sum = widen(product, vb + qw, 64);
    return dsp16 ? sum : fmt::format("({} ? ({} <<< 16) : {})", wide, sum, sum);
  };
  // With dsp16 (one element per cycle) both products are taken in 16 x 16 pieces, each registered (pp_*, one stage
  // more, registers that Yosys places in the DSP blocks) and summed in two registered parts (ps_*, one stage more)
  // before s2_sum adds them: p x q as p's and q's low (unsigned) and high (signed) halves, four pieces; r x s, r
  // 17-bit, as r's low half times s in two pieces, less r's sign bit times s placed 16 bits up (pp_c2, in logic). A
  // path through a block's multiplier would not be timed by nextpnr-ice40, which treats every DSP port as a
  // register's (docs/fpga.md).
  const bool pieces = D == 1 && dsp16;
  const Signal product_1 = pieces ? Signal{} : m.wire("product_1", pb + qw, true);
  const Signal product_2 = pieces ? Signal{} : m.wire("product_2", vb + qw, true);
  auto half = [](const std::string& v, bool high) {  // a 32-bit value's 16-bit half, extended to 32 bits as signed
    return high ? fmt::format("$signed({{{{16{{{0}[31]}}}}, {0}[31:16]}})", v) : fmt::format("$signed({{16'd0, {}[15:0]}})", v);
  };
  if (pieces) {
    for (const char* piece : {"pp_ll1", "pp_ll2"}) m.reg(piece, 32);
    for (const char* piece : {"pp_lh1", "pp_hl1", "pp_hh1", "pp_lh2", "pp_c2"}) m.reg(piece, 32, true);
    m.reg("pp_shift", 6);
    // lh1 + hl1 + lh2 - c2, 16 bits up in the sum, at 34 bits, and {hh1, ll1} + ll2, each registered (ps_mid, ps_lo:
    // one stage more, so that no path runs from a block's output register through both sums' carry chains: icestorm's
    // model puts that register's output up to 2 ns after the clock, docs/fpga.md)
    m.assign(m.wire("pp_mid", 34, true), fmt::format("({} + {}) + ({} - {})", widen("pp_lh1", 32, 34), widen("pp_hl1", 32, 34),
                                                     widen("pp_lh2", 32, 34), widen("pp_c2", 32, 34)));
    m.assign(m.wire("pp_lo", 64), "{pp_hh1, pp_ll1} + {32'd0, pp_ll2}");
    m.reg("ps_mid", 34, true);
    m.reg("ps_lo", 64);
    m.reg("ps_shift", 6);
    m.assign(m.wire("ps_mid_sum", 48, true), widen("ps_mid", 34, 48));  // sign-extended to the 48 bits above the low 16
  } else if (D == 1) {
    m.assign(product_1, fmt::format("{} * {}", s1_p.name, s1_q.name));  // signed operands, a context of the product's width: exact
    m.assign(product_2, fmt::format("{} * {}", s1_r.name, s1_s.name));
  } else {
    // p x q + r x s by Horner's rule over q's and s's digits, which shift out of s1_q and s1_s from the top: the first
    // digit signed, the others unsigned; sum = sum * 2^w + p x digit + r x digit, exact in 64 bits. A digit's two
    // products are registered (pp_1, pp_2, with pp_first, pp_wide and the shift) before they are summed: the
    // product's adders and the 64-bit sum would otherwise be one path.
    m.reg("s1_first");
    m.reg("pp_first");
    if (!dsp16) m.reg("pp_wide");
    m.reg("pp_shift", 6);
    const auto q_digit = m.wire("q_digit", w + 1, true), s_digit = m.wire("s_digit", w + 1, true);
    m.assign(q_digit, fmt::format("{{s1_first & {0}[31], {0}[31:{1}]}}", s1_q.name, 32 - w));
    m.assign(s_digit, fmt::format("{{s1_first & {0}[31], {0}[31:{1}]}}", s1_s.name, 32 - w));
    // each product as its digit's shifted multiples of the operand (the top digit bit weighs -2^w): a signed `*`
    // would be mapped at the product's width on both operands
    auto shift_add = [&](const Signal& product, const std::string& operand, int operand_bits, const Signal& digit) {
      const std::string wide = widen(operand, operand_bits, product.width);
      std::string sum;
      for (int i = 0; i <= w; ++i)
        sum += fmt::format("{}({{{}{{{}[{}]}}}} & ({} << {}))", i == 0 ? "" : i == w ? " - " : " + ", product.width, digit.name, i, wide, i);
      m.assign(product, sum);
    };
    shift_add(product_1, s1_p.name, pb, q_digit);
    shift_add(product_2, s1_r.name, vb, s_digit);
    m.reg("pp_1", product_1.width, true);
    m.reg("pp_2", product_2.width, true);
  }
  // stage 3: rounding shift right (round half up): r = (v >>> s) + bit s-1 of v, saturated in stage 4 to bounds of at
  // most kSaturationBits bits. Only t = v >>> s's low sb + 1 bits are needed, with whether t fits sb + 1 bits (v's
  // bits from sb + s up all equal its sign): if it does, r = t + round is exact at sb + 2 bits; if not, r lies beyond
  // both bounds on v's side. One shifter finds all three: it shifts z = {v, 0} ^ sign (65 bits, v's sign xored out,
  // so that every bit above v's top is 0) right by s, largest step first, each stage as wide as the later ones need;
  // the result's bit 0 is bit s-1 of v (the round bit; 0 when s = 0), bits 1 to tw are t (both xored back with the
  // sign). The bits a stage drops off its top all lie at or above v's bit sb + s, as does t's top bit, and every such
  // bit is either dropped or t's top: t does not fit when any of them is set. Stage 3 registers t and the round bit
  // apart: the add r = t + round is stage 4's, beside the comparisons, which read t and the round bit.
  const int sb = kSaturationBits, tw = sb + 1;
  const auto sign = m.wire("sign"), z = m.wire("z", 65);
  m.assign(sign, s2_sum.name + "[63]");
  m.assign(z, fmt::format("{{{0}, 1'b0}} ^ {{65{{{1}}}}}", s2_sum.name, sign.name));
  std::string prev = z.name;
  int avail = 65;  // bits of `prev` (above them: 0)
  std::vector<std::string> dropped;  // per stage: were any of the bits it drops set
  for (int k = 5; k >= 0; --k) {
    const int step = 1 << k, need = tw + step;  // the bits the later stages (shifts below `step`) read: t, round bit
    const auto u = m.wire(fmt::format("shifted_{}", step), need);
    const std::string moved = step + need <= avail ? fmt::format("{}[{}:{}]", prev, step + need - 1, step)
                                                   : fmt::format("{{{}'d0, {}[{}:{}]}}", step + need - avail, prev, avail - 1, step);
    m.assign(u, fmt::format("{}[{}] ? {} : {}[{}:0]", s2_shift.name, k, moved, prev, need - 1));
    auto any = [&](int from) { return fmt::format("(|{}[{}:{}])", prev, avail - 1, from); };  // prev's bits from `from` up
    if (need < avail) {
      const auto d = m.wire(fmt::format("dropped_{}", step));
      m.assign(d, step + need < avail ? fmt::format("{}[{}] ? {} : {}", s2_shift.name, k, any(step + need), any(need))
                                      : fmt::format("!{}[{}] & {}", s2_shift.name, k, any(need)));
      dropped.push_back(d.name);
    }
    prev = u.name;
    avail = need;
  }
  const auto beyond = m.wire("beyond");  // t does not fit tw bits
  std::string any_dropped = fmt::format("{}[{}]", prev, tw);  // t's top bit
  for (const auto& d : dropped) any_dropped += " | " + d;
  m.assign(beyond, any_dropped);
  const auto s3_t = m.reg("s3_t", tw, true), s3_round = m.reg("s3_round"), s3_beyond = m.reg("s3_beyond"), s3_sign = m.reg("s3_sign");
  // stage 4: saturation of r = t + round to [lo, hi]. If t fits tw bits, r is compared exactly (at tw + 1 bits: r
  // beyond sb bits lies beyond a bound, lo and hi being sb-bit values); if not, r lies beyond both bounds, on the
  // side of v's sign. The comparisons read t and the round bit, so that their carry chains run beside r's add
  // instead of after it: r > hi when hi + ~t + !round = hi - r < 0; and below lo the round bit does not matter, since
  // r = lo when t = lo - 1 and the round bit is set, which saturates to lo all the same: r is taken as below lo when t is
  // (given lo < hi, as CONFIG's bounds are: out_range_bits is at least 2, docs/isa.md).
  const auto r = m.wire("r", sb, true);
  m.lint_off("UNUSEDSIGNAL");  // the sum's low bits: only its sign is read
  const auto hi_minus_r = m.wire("hi_minus_r", tw + 1, true);
  m.lint_on("UNUSEDSIGNAL");
  const auto below = m.wire("below"), above = m.wire("above");
  const std::string t_wide = widen(s3_t.name, tw, tw + 1);
  m.assign(r, fmt::format("{0}[{1}:0] + {{{1}'d0, {2}}}", s3_t.name, sb - 1, s3_round.name));  // r's low sb bits
  m.assign(hi_minus_r, fmt::format("{} + ~{} + {{{}'d0, !{}}}", widen(hi.name, sb, tw + 1), t_wide,
                                   tw, s3_round.name));
  m.assign(below, fmt::format("{0} ? {1} : ({2} < $signed({3}))", s3_beyond.name, s3_sign.name, s3_t.name,
                              widen(lo.name, sb, sb + 1)));
  m.assign(above, fmt::format("{0} ? !{1} : {2}[{3}]", s3_beyond.name, s3_sign.name, hi_minus_r.name, tw));
  const auto sat = m.wire("sat", sb, true);
  m.assign(sat, fmt::format("below ? {} : (above ? {} : {})", lo.name, hi.name, r.name));
  m.always_ff(clk, [&](Block& blk) {
    auto operands = [&](Block& in) {
      in.if_(mode_add,
             [&](Block& t) { t.assign(s1_p, dsp16 ? x.name : fmt::format("{}[{}:0]", x.name, vb - 1)).assign(s1_q, a).assign(s1_r, y).assign(s1_s, b); },
             [&](Block& t) {
               if (dsp16) {
                 t.assign(s1_p, biased).assign(s1_q, b).assign(s1_r, lit(vb, 0, true)).assign(s1_s, lit(32, 0, true));
               } else {
                 t.assign(s1_p, fmt::format("{{{}'d0, {}[15:0]}}", vb - 16, biased.name)).assign(s1_q, b);
                 t.assign(s1_r, sign_extend(fmt::format("{}[31:16]", biased.name), fmt::format("{}[31]", biased.name), vb - 16)).assign(s1_s, b);
               }
             });
      if (!dsp16) in.assign("s1_wide", fmt::format("!{}", mode_add.name));
      in.assign(s1_shift, shift);
    };
    if (pieces) {
      operands(blk);
      blk.assign("pp_ll1", fmt::format("{{16'd0, {}[15:0]}} * {{16'd0, {}[15:0]}}", s1_p.name, s1_q.name));
      blk.assign("pp_lh1", fmt::format("{} * {}", half(s1_p.name, false), half(s1_q.name, true)));
      blk.assign("pp_hl1", fmt::format("{} * {}", half(s1_p.name, true), half(s1_q.name, false)));
      blk.assign("pp_hh1", fmt::format("{} * {}", half(s1_p.name, true), half(s1_q.name, true)));
      blk.assign("pp_ll2", fmt::format("{{16'd0, {}[15:0]}} * {{16'd0, {}[15:0]}}", s1_r.name, s1_s.name));
      blk.assign("pp_lh2", fmt::format("{} * {}", half(s1_r.name, false), half(s1_s.name, true)));
      blk.assign("pp_c2", fmt::format("{}[16] ? {} : 32'sd0", s1_r.name, s1_s.name));
      blk.assign("pp_shift", s1_shift);
      // the pieces 16 bits up summed at their own widths (pp_mid) beside {hh1, ll1} + ll2 (pp_lo), registered, then
      // added above the low 16 bits
      blk.assign("ps_mid", "pp_mid").assign("ps_lo", "pp_lo").assign("ps_shift", "pp_shift");
      blk.assign(s2_sum, "{ps_lo[63:16] + ps_mid_sum, ps_lo[15:0]}");
    } else if (D == 1) {
      operands(blk);
      blk.assign(s2_sum, fmt::format("{} + {}", widen(product_1.name, product_1.width, 64), placed(product_2.name, "s1_wide")));
    } else {
      blk.if_("load", operands, [&](Block& e) {
        e.assign(s1_q, fmt::format("{} << {}", s1_q.name, w)).assign(s1_s, fmt::format("{} << {}", s1_s.name, w));
      });
      blk.assign("s1_first", "load");
      blk.assign("pp_1", product_1).assign("pp_2", product_2).assign("pp_first", "s1_first").assign("pp_shift", s1_shift);
      if (!dsp16) blk.assign("pp_wide", "s1_wide");
      blk.assign(s2_sum, fmt::format("(pp_first ? 64'd0 : ({0} << {1})) + {2} + {3}", s2_sum.name, w, widen("pp_1", product_1.width, 64),
                                     placed("pp_2", "pp_wide")));
    }
    const std::string before = pieces ? "ps_shift" : D == 1 ? s1_shift.name : std::string("pp_shift");  // s2_shift's next value
    blk.assign(s2_shift, before);
    blk.assign(s3_t, fmt::format("{}[{}:1] ^ {{{}{{{}}}}}", prev, tw, tw, sign.name)).assign(s3_round, fmt::format("{}[0] ^ {}", prev, sign.name));
    blk.assign(s3_beyond, beyond).assign(s3_sign, sign);
    blk.assign(out, fmt::format("{{{{{0}{{sat[{1}]}}}}, sat}}", 64 - sb, sb - 1));
  });
  return m;
}

std::string file_header(const AcceleratorConfig& config) {
  return fmt::format("Generated by faq-hwgen for configuration '{}' (hash {}): do not edit.\n{}", config.name, config.hash_hex(),
                     config.canonical());
}

std::vector<std::pair<std::string, std::string>> generate_verilog(const AcceleratorConfig& config) {
  const std::string header = file_header(config);
  std::vector<std::pair<std::string, std::string>> files;
  for (const Module& m : {pe_module(config), array_module(config), post_module(config.post_mult_cycles, config.post_dsp16), accel_module(config)})
    files.emplace_back(m.name() + ".v", render_file(header, m));
  return files;
}

}  // namespace faq::hw
