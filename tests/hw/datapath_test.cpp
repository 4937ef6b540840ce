// The generated datapath modules, Verilated, against the contract's arithmetic: the systolic array (skew,
// weight preload into both banks, bank switching while the other bank is reloaded, wrapping partial sums, the
// latency the cycle model assumes) and the post-processing lane (requantize and residual add, every shift,
// saturation bounds), the precision-scalable PE and its array in their four modes, on random and corner-case values.
// Configurations: tiny (4x4, 8-bit, 32-bit accumulators), edge (8x8, 4-bit, 20-bit accumulators) and the scalable
// tests/configs/tiny_scalable.json (4x4, 32-bit) and scalable_3x2_acc20.json (3x2, 20-bit accumulators); arrays of
// Booth PEs (tests/configs/booth_*.json: W8A8, W4A4, W16A2 and W2A16, 4x4, accumulators of 32, 10 and 18 bits) and
// of adder trees (tree_*.json: 5x4 W8A8 wrapping at 20 bits, 16x2 W4A4 of Booth PEs).
#include "Vfaq_array_booth_4x4_w16a2_acc18.h"
#include "Vfaq_array_booth_4x4_w2a16_acc18.h"
#include "Vfaq_array_booth_4x4_w4a4_acc10.h"
#include "Vfaq_array_booth_4x4_w8a8.h"
#include "Vfaq_array_edge.h"
#include "Vfaq_array_tree_5x4_w8a8_acc20.h"
#include "Vfaq_array_tree_booth_16x2_w4a4.h"
#include "Vfaq_array_pairs_5x4_w8a8_acc16.h"
#include "Vfaq_array_pairs_booth_6x2_w4a4_acc10.h"
#include "Vfaq_array_tiny.h"
#include "Vfaq_array_scalable_3x2_acc20.h"
#include "Vfaq_array_tiny_scalable.h"
#include "Vfaq_pe_scalable_3x2_acc20.h"
#include "Vfaq_pe_tiny_scalable.h"
#include "Vfaq_post.h"
#include "Vfaq_post_hx8k_20x2.h"
#include "Vfaq_post_ice40_4x2.h"

#include "faq/arithmetic.h"
#include "faq/config.h"
#include "faq/hw/generate.h"

#include <gtest/gtest.h>
#include <verilated.h>

#include <array>
#include <deque>
#include <functional>
#include <random>
#include <type_traits>

namespace faq::hw {
namespace {

// Bit fields of Verilated ports of any width (CData ... QData, or VlWide words).
template <typename T>
void set_bits(T& port, int lsb, int width, std::uint64_t value) {
  if constexpr (std::is_integral_v<T>) {
    const T mask = static_cast<T>(width >= 64 ? ~0ULL : ((1ULL << width) - 1));
    port = static_cast<T>((port & ~static_cast<T>(mask << lsb)) | static_cast<T>((value & mask) << lsb));
  } else {
    for (int i = 0; i < width; ++i) {
      const int bit = lsb + i;
      auto& word = port[static_cast<std::size_t>(bit / 32)];
      const std::uint32_t m = 1U << (bit % 32);
      word = ((value >> i) & 1U) != 0 ? (word | m) : (word & ~m);
    }
  }
}

template <typename T>
std::int64_t get_signed(const T& port, int lsb, int width) {
  std::uint64_t v = 0;
  if constexpr (std::is_integral_v<T>) {
    v = static_cast<std::uint64_t>(port) >> lsb;
  } else {
    for (int i = 0; i < width; ++i) {
      const int bit = lsb + i;
      v |= static_cast<std::uint64_t>((port[static_cast<std::size_t>(bit / 32)] >> (bit % 32)) & 1U) << i;
    }
  }
  return arith::wrap(static_cast<std::int64_t>(v), width);
}

template <typename Model>
void tick(Model& m) {
  m.clk = 0;
  m.eval();
  m.clk = 1;
  m.eval();
}

template <typename Model>
void check_array(const char* preset, std::uint64_t seed) {
  const AcceleratorConfig cfg = AcceleratorConfig::load(preset);
  const Widths w(cfg);
  const int R = cfg.rows, C = cfg.cols;
  std::mt19937_64 rng(seed);
  auto uniform = [&](std::int64_t lo, std::int64_t hi) { return std::uniform_int_distribution<std::int64_t>(lo, hi)(rng); };
  const auto wr = arith::weight_range(cfg.weight_bits);
  // Activations: signed lanes down to -2^(act-1), unsigned lanes up to 2^act - 1.
  const std::int64_t a_lo = -(std::int64_t{1} << (cfg.act_bits - 1)), a_hi = (std::int64_t{1} << cfg.act_bits) - 1;
  using Tile = std::vector<std::vector<std::int64_t>>;
  auto random_tile = [&] {
    Tile t(static_cast<std::size_t>(R), std::vector<std::int64_t>(static_cast<std::size_t>(C)));
    for (auto& row : t)
      for (auto& v : row) {
        v = uniform(wr.lo, wr.hi);
        if (uniform(0, 7) == 0) v = uniform(0, 1) != 0 ? wr.lo : wr.hi;  // the ends of the range, often
      }
    return t;
  };
  Model m;
  m.a_valid = 0;
  m.w_shift = 0;
  tick(m);
  // Preload: lines enter the top and shift down, so the tile's last row goes first.
  auto shift_in = [&](int k, const Tile& t, int bank) {
    for (int c = 0; c < C; ++c) set_bits(m.w_line, c * w.weight, w.weight, static_cast<std::uint64_t>(t[static_cast<std::size_t>(R - 1 - k)][static_cast<std::size_t>(c)]));
    m.w_shift = 1;
    m.w_bank = static_cast<std::uint8_t>(bank);
  };
  Tile bank[2] = {random_tile(), random_tile()};
  for (int b = 0; b < 2; ++b)
    for (int k = 0; k < R; ++k) {
      shift_in(k, bank[b], b);
      tick(m);
    }
  m.w_shift = 0;

  struct Expected {
    std::uint64_t cycle;
    std::vector<std::int64_t> sums;
  };
  std::deque<Expected> pending;
  std::uint64_t cycle = 0;
  int checked = 0;
  const int lines = 12 * R;
  Tile next = random_tile();
  for (int n = 0; n < lines + R + C + 2; ++n, ++cycle) {
    const bool send = n < lines;
    // Lines 0..4R-1 alternate banks; then bank 0 only, while bank 1 is reloaded with `next` once its last line has
    // left the array (the cycle model's rule: a PRELOAD waits until the MATMUL using that bank is done); then bank 1.
    const int drained = 4 * R + array_latency(cfg);
    ASSERT_LE(drained + R, 8 * R) << preset << ": the reload must end within the bank-0 phase";
    int use = n % 2;
    if (n >= 4 * R) use = n < 8 * R ? 0 : 1;
    m.w_shift = 0;
    if (n >= drained && n < drained + R) shift_in(n - drained, next, 1);
    if (n == drained + R) bank[1] = next;
    std::vector<std::int64_t> a(static_cast<std::size_t>(R));
    for (int r = 0; r < R; ++r) {
      a[static_cast<std::size_t>(r)] = uniform(a_lo, a_hi);
      if (uniform(0, 7) == 0) a[static_cast<std::size_t>(r)] = uniform(0, 1) != 0 ? a_lo : a_hi;
      set_bits(m.a_line, r * w.act, w.act, static_cast<std::uint64_t>(a[static_cast<std::size_t>(r)]));
    }
    m.a_valid = send;
    m.a_bank = static_cast<std::uint8_t>(use);
    if (send) {
      std::vector<std::int64_t> sums(static_cast<std::size_t>(C), 0);
      for (int c = 0; c < C; ++c) {
        std::int64_t s = 0;
        for (int r = 0; r < R; ++r) s += a[static_cast<std::size_t>(r)] * bank[use][static_cast<std::size_t>(r)][static_cast<std::size_t>(c)];
        sums[static_cast<std::size_t>(c)] = arith::wrap(s, cfg.acc_bits);
      }
      pending.push_back({cycle + static_cast<std::uint64_t>(array_latency(cfg)), sums});
    }
    tick(m);
    // After the edge that ends cycle `cycle`, outputs of lines sent `latency` cycles earlier are visible.
    if (m.out_valid) {
      ASSERT_FALSE(pending.empty()) << preset << ": output without input at cycle " << cycle;
      ASSERT_EQ(pending.front().cycle, cycle + 1) << preset << ": latency (edges) differs from array_latency()";
      for (int c = 0; c < C; ++c)
        ASSERT_EQ(get_signed(m.out_line, c * w.psum, w.psum), pending.front().sums[static_cast<std::size_t>(c)])
            << preset << ": line " << checked << " column " << c;
      pending.pop_front();
      ++checked;
    }
  }
  EXPECT_EQ(checked, lines) << preset;
  EXPECT_TRUE(pending.empty());
}

// Operands of the precision-scalable PE per mode (bit 0: activations, bit 1: weights of at most 4 bits; bit 2: signed
// activations), drawn over the full ranges: k = products per cycle values per operand, arranged into the PE's
// 16-bit words of four nibbles as LOAD arranges them (docs/hw.md): activations [vL, vL, vH, vH] (W8A8),
// [a0, a0, a1, a1] (W8A4), [v0L, v0H, v1L, v1H] (W4A8), [a0, a1, a2, a3] (W4A4); weights [wL, wH, wL, wH],
// [w0L, w0H, w1L, w1H], [w0, w0, w1, w1], [w0, w1, w2, w3].
struct Slots {
  std::uint64_t bits = 0;
  std::array<std::int64_t, 4> v{};
};
using Uniform = std::function<std::int64_t(std::int64_t, std::int64_t)>;
int mode_products(int mode) { return ((mode & 1) != 0 ? 2 : 1) * ((mode & 2) != 0 ? 2 : 1); }

// nibble i of value `v` (bits [4i, 4i + 4))
std::uint64_t nibble(std::int64_t v, int i) { return (static_cast<std::uint64_t>(v) >> (4 * i)) & 0xF; }
std::uint64_t word(const std::array<std::uint64_t, 4>& n) { return n[0] | n[1] << 4 | n[2] << 8 | n[3] << 12; }

Slots random_values(int count, std::int64_t lo, std::int64_t hi, const Uniform& uniform) {
  Slots s;
  for (int k = 0; k < count; ++k) s.v[static_cast<std::size_t>(k)] = uniform(0, 7) == 0 ? (uniform(0, 1) != 0 ? lo : hi) : uniform(lo, hi);
  return s;
}
Slots scalable_activation(int mode, const Uniform& uniform) {
  const bool a4 = (mode & 1) != 0, w4 = (mode & 2) != 0, sa = (mode & 4) != 0;
  const int bits = a4 ? 4 : 8;
  Slots s = random_values(mode_products(mode), sa ? -(1 << (bits - 1)) : 0, sa ? (1 << (bits - 1)) - 1 : (1 << bits) - 1, uniform);
  const auto& v = s.v;
  if (!a4 && !w4) s.bits = word({nibble(v[0], 0), nibble(v[0], 0), nibble(v[0], 1), nibble(v[0], 1)});
  if (a4 && !w4) s.bits = word({nibble(v[0], 0), nibble(v[0], 0), nibble(v[1], 0), nibble(v[1], 0)});
  if (!a4 && w4) s.bits = word({nibble(v[0], 0), nibble(v[0], 1), nibble(v[1], 0), nibble(v[1], 1)});
  if (a4 && w4) s.bits = word({nibble(v[0], 0), nibble(v[1], 0), nibble(v[2], 0), nibble(v[3], 0)});
  return s;
}
Slots scalable_weights(int mode, const Uniform& uniform) {
  const bool a4 = (mode & 1) != 0, w4 = (mode & 2) != 0;
  Slots s = w4 ? random_values(mode_products(mode), -8, 7, uniform) : random_values(mode_products(mode), -128, 127, uniform);
  const auto& v = s.v;
  if (!a4 && !w4) s.bits = word({nibble(v[0], 0), nibble(v[0], 1), nibble(v[0], 0), nibble(v[0], 1)});
  if (a4 && !w4) s.bits = word({nibble(v[0], 0), nibble(v[0], 1), nibble(v[1], 0), nibble(v[1], 1)});
  if (!a4 && w4) s.bits = word({nibble(v[0], 0), nibble(v[0], 0), nibble(v[1], 0), nibble(v[1], 0)});
  if (a4 && w4) s.bits = word({nibble(v[0], 0), nibble(v[1], 0), nibble(v[2], 0), nibble(v[3], 0)});
  return s;
}
std::int64_t dot(int mode, const Slots& a, const Slots& w) {
  std::int64_t s = 0;
  for (int k = 0; k < mode_products(mode); ++k) s += a.v[static_cast<std::size_t>(k)] * w.v[static_cast<std::size_t>(k)];
  return s;
}

// The precision-scalable PE: every mode, partial sums over the accumulator's range, invalid cycles adding nothing;
// the sum of a cycle's products reaches the partial sum one cycle later (the PE's pipeline stage).
template <typename Model>
void check_scalable_pe(const char* config_file, std::uint64_t seed) {
  const AcceleratorConfig cfg = AcceleratorConfig::load(config_file);
  const int acc = cfg.acc_bits;
  std::mt19937_64 rng(seed);
  const Uniform uniform = [&](std::int64_t lo, std::int64_t hi) { return std::uniform_int_distribution<std::int64_t>(lo, hi)(rng); };
  Model m;
  m.w_shift = 0;
  m.a_valid_in = 0;
  tick(m);
  for (int trial = 0; trial < 4000; ++trial) {
    const int mode = trial % 8;
    const int bank = static_cast<int>(uniform(0, 1));
    const Slots w = scalable_weights(mode, uniform);
    m.w_shift = 1;
    m.w_bank = static_cast<std::uint8_t>(bank);
    // the bank's own chain carries the weight; the other chain carries another value, which must not be taken
    set_bits(bank != 0 ? m.w_in1 : m.w_in0, 0, kScalableWeightBits, w.bits);
    set_bits(bank != 0 ? m.w_in0 : m.w_in1, 0, kScalableWeightBits, scalable_weights(mode, uniform).bits);
    tick(m);
    m.w_shift = 0;
    const Slots x = scalable_activation(mode, uniform);
    set_bits(m.a_in, 0, kScalableActBits, x.bits);
    const bool valid = trial % 7 != 3;
    const std::int64_t lo = -(std::int64_t{1} << (acc - 1)), hi = (std::int64_t{1} << (acc - 1)) - 1;
    const std::int64_t s0 = trial % 11 == 0 ? hi : trial % 13 == 0 ? lo : uniform(lo, hi);
    m.mode_in = static_cast<std::uint8_t>(mode);
    m.a_valid_in = valid ? 1 : 0;
    m.a_bank_in = static_cast<std::uint8_t>(bank);
    tick(m);  // the products' sum is registered
    m.a_valid_in = 0;
    set_bits(m.psum_in, 0, acc, static_cast<std::uint64_t>(s0));
    tick(m);  // and added to the partial sum from above in the next cycle
    ASSERT_EQ(get_signed(m.psum_out, 0, acc), arith::wrap(s0 + (valid ? dot(mode, x, w) : 0), acc))
        << config_file << " trial " << trial << " mode " << mode;
  }
}

// The array of scalable PEs in each of the eight modes: both weight banks preloaded, lines alternating banks, every column's
// partial sum equal to the dot product over products x rows inputs, after array_latency() edges like the fixed array.
template <typename Model>
void check_scalable_array(const char* config_file, std::uint64_t seed) {
  const AcceleratorConfig cfg = AcceleratorConfig::load(config_file);
  const int R = cfg.rows, C = cfg.cols, acc = cfg.acc_bits;
  std::mt19937_64 rng(seed);
  const Uniform uniform = [&](std::int64_t lo, std::int64_t hi) { return std::uniform_int_distribution<std::int64_t>(lo, hi)(rng); };
  Model m;
  m.a_valid = 0;
  m.w_shift = 0;
  tick(m);
  for (int mode = 0; mode < 8; ++mode) {
    m.mode = static_cast<std::uint8_t>(mode);
    using Tile = std::vector<std::vector<Slots>>;
    Tile bank[2];
    for (auto& t : bank) {
      t.assign(static_cast<std::size_t>(R), std::vector<Slots>(static_cast<std::size_t>(C)));
      for (auto& row : t)
        for (auto& w : row) w = scalable_weights(mode, uniform);
    }
    for (int b = 0; b < 2; ++b)
      for (int k = 0; k < R; ++k) {  // the tile's last row first
        for (int c = 0; c < C; ++c)
          set_bits(m.w_line, c * kScalableWeightBits, kScalableWeightBits, bank[b][static_cast<std::size_t>(R - 1 - k)][static_cast<std::size_t>(c)].bits);
        m.w_shift = 1;
        m.w_bank = static_cast<std::uint8_t>(b);
        tick(m);
      }
    m.w_shift = 0;
    std::deque<std::pair<int, std::vector<std::int64_t>>> pending;  // (edge after which it leaves, sums)
    const int lines = 4 * R;
    int checked = 0;
    for (int n = 0; n < lines + R + C + 2; ++n) {
      const bool send = n < lines;
      const int use = n % 2;
      std::vector<std::int64_t> sums(static_cast<std::size_t>(C), 0);
      for (int r = 0; r < R; ++r) {
        const Slots x = scalable_activation(mode, uniform);
        set_bits(m.a_line, r * kScalableActBits, kScalableActBits, x.bits);
        for (int c = 0; c < C; ++c) sums[static_cast<std::size_t>(c)] += dot(mode, x, bank[use][static_cast<std::size_t>(r)][static_cast<std::size_t>(c)]);
      }
      m.a_valid = send;
      m.a_bank = static_cast<std::uint8_t>(use);
      if (send) {
        for (auto& v : sums) v = arith::wrap(v, acc);
        pending.emplace_back(n + array_latency(cfg), sums);
      }
      tick(m);
      if (m.out_valid) {
        ASSERT_FALSE(pending.empty()) << config_file << " mode " << mode << ": output without input";
        ASSERT_EQ(pending.front().first, n + 1) << config_file << " mode " << mode << ": latency (edges) differs from array_latency()";
        for (int c = 0; c < C; ++c)
          ASSERT_EQ(get_signed(m.out_line, c * acc, acc), pending.front().second[static_cast<std::size_t>(c)])
              << config_file << " mode " << mode << ": line " << checked << " column " << c;
        pending.pop_front();
        ++checked;
      }
    }
    EXPECT_EQ(checked, lines) << config_file << " mode " << mode;
  }
}

TEST(HwScalablePe, AllModesMatchProducts) { check_scalable_pe<Vfaq_pe_tiny_scalable>(FAQ_TINY_SCALABLE, 3); }
TEST(HwScalablePe, AllModesWrapAt20Bits) { check_scalable_pe<Vfaq_pe_scalable_3x2_acc20>(FAQ_SCALABLE_3X2, 4); }
TEST(HwScalableArray, TinyAllModesMatchDotProducts) { check_scalable_array<Vfaq_array_tiny_scalable>(FAQ_TINY_SCALABLE, 5); }
TEST(HwScalableArray, ThreeByTwoAllModesWrapAt20Bits) { check_scalable_array<Vfaq_array_scalable_3x2_acc20>(FAQ_SCALABLE_3X2, 6); }

TEST(HwArray, TinyMatchesDotProducts) { check_array<Vfaq_array_tiny>("tiny", 1); }
TEST(HwArray, EdgeMatchesDotProductsWrappingAt20Bits) { check_array<Vfaq_array_edge>("edge", 2); }
// Booth PEs (pe_booth): the same sums, digit by digit of the weight
TEST(HwArray, BoothW8A8MatchesDotProducts) { check_array<Vfaq_array_booth_4x4_w8a8>(FAQ_TEST_CONFIGS "/booth_4x4_w8a8.json", 11); }
TEST(HwArray, BoothW4A4WrapsAt10Bits) { check_array<Vfaq_array_booth_4x4_w4a4_acc10>(FAQ_TEST_CONFIGS "/booth_4x4_w4a4_acc10.json", 12); }
TEST(HwArray, BoothW16A2WrapsAt18Bits) { check_array<Vfaq_array_booth_4x4_w16a2_acc18>(FAQ_TEST_CONFIGS "/booth_4x4_w16a2_acc18.json", 13); }
TEST(HwArray, BoothW2A16WrapsAt18Bits) { check_array<Vfaq_array_booth_4x4_w2a16_acc18>(FAQ_TEST_CONFIGS "/booth_4x4_w2a16_acc18.json", 14); }
// adder trees (adder_tree): the same sums, array_latency() edges later (shorter than the systolic array's)
TEST(HwArray, TreeOddRowsWrapsAt20Bits) { check_array<Vfaq_array_tree_5x4_w8a8_acc20>(FAQ_TEST_CONFIGS "/tree_5x4_w8a8_acc20.json", 15); }
TEST(HwArray, TreeOfBoothPesMatchesDotProducts) { check_array<Vfaq_array_tree_booth_16x2_w4a4>(FAQ_TEST_CONFIGS "/tree_booth_16x2_w4a4.json", 16); }
// parallel_pairs: each PE's product alone, the pair added by the array; acc_bits = weight_bits + act_bits (a product's
// own width: the pair's sum wraps there too) and 10 bits for sums of 6 W4A4 products (11 bits exact)
TEST(HwArray, ParallelPairsWrapAt16Bits) { check_array<Vfaq_array_pairs_5x4_w8a8_acc16>(FAQ_TEST_CONFIGS "/pairs_5x4_w8a8_acc16.json", 17); }
TEST(HwArray, ParallelPairsOfBoothPesWrapAt10Bits) {
  check_array<Vfaq_array_pairs_booth_6x2_w4a4_acc10>(FAQ_TEST_CONFIGS "/pairs_booth_6x2_w4a4_acc10.json", 18);
}

std::int64_t post_reference(bool add, std::int64_t x, std::int64_t y, std::int64_t a, std::int64_t b, int shift, std::int64_t lo, std::int64_t hi) {
  const std::int64_t v = add ? x * a + y * b : arith::wrap(x + a, 32) * b;
  return arith::saturate(arith::rounding_shift_right(v, shift), {lo, hi});
}

// One lane on random operands of the contract's ranges. A digit-serial lane (`cycles` = post_mult_cycles > 1) takes an
// element with `load` and then `cycles` - 1 cycles in which its inputs carry other values (it must hold its own).
// dsp16: the lane's products in registered 16 x 16 pieces, summed in two registered parts (post_dsp16: two stages more).
template <class Model>
void check_post(int cycles, std::uint64_t seed, bool dsp16 = false) {
  std::mt19937_64 rng(seed);
  auto uniform = [&](std::int64_t lo, std::int64_t hi) { return std::uniform_int_distribution<std::int64_t>(lo, hi)(rng); };
  Model m;
  struct In {
    bool add;
    std::int64_t x, y, a, b;
    int shift;
    std::int64_t lo, hi;
  };
  const std::int64_t i32lo = arith::kInt32Range.lo, i32hi = arith::kInt32Range.hi;
  auto draw = [&](const arith::Range& range) {
    In in{};
    in.add = uniform(0, 1) != 0;
    in.lo = range.lo;
    in.hi = range.hi;
    in.shift = static_cast<int>(uniform(0, 63));
    if (in.add) {  // VADD operands: tensors of at most 16 bits, multipliers of the contract (int32)
      in.x = uniform(-32768, 65535);
      in.y = uniform(-32768, 65535);
      in.a = uniform(i32lo, i32hi);
      in.b = uniform(i32lo, i32hi);
    } else {
      in.x = uniform(i32lo, i32hi);
      in.y = 0;
      in.a = uniform(i32lo, i32hi);
      in.b = uniform(0, arith::kMaxMultiplier);
      if (uniform(0, 9) == 0) in.x = uniform(0, 1) != 0 ? i32lo : i32hi;  // bias-add wrap corners
    }
    if (uniform(0, 9) == 0) in.shift = static_cast<int>(uniform(0, 1) != 0 ? 0 : 63);
    if (uniform(0, 3) == 0) {
      // a requantization that lands next to a bound: v = (x + a) x 1 = r x 2^s + delta rounds to r = a bound + {-2..2},
      // from below (delta < 0: the shifted value is r - 1 and the round bit adds 1) or from above (delta >= 0)
      in.add = false;
      in.shift = static_cast<int>(uniform(0, 14));
      const std::int64_t bound = uniform(0, 1) != 0 ? range.lo : range.hi, r = bound + uniform(-2, 2);
      const std::int64_t half = in.shift == 0 ? 0 : std::int64_t{1} << (in.shift - 1);
      const std::int64_t delta = in.shift == 0 ? 0 : uniform(0, 1) != 0 ? uniform(-half, -1) : uniform(0, half - 1);
      in.b = 1;
      in.y = 0;
      in.a = uniform(-1000, 1000);
      in.x = r * (std::int64_t{1} << in.shift) + delta - in.a;
    }
    return in;
  };
  auto drive = [&](const In& in) {
    m.mode_add = in.add;
    m.x = static_cast<std::uint32_t>(in.x);
    m.y = static_cast<std::uint32_t>(in.y) & ((1U << kLaneValueBits) - 1);  // a 17-bit two's complement port
    m.a = static_cast<std::uint32_t>(in.a);
    m.b = static_cast<std::uint32_t>(in.b);
    m.shift = static_cast<std::uint8_t>(in.shift);
    const std::uint32_t bounds_mask = (1U << kSaturationBits) - 1;  // kSaturationBits-bit two's complement ports
    m.lo = static_cast<std::uint32_t>(in.lo) & bounds_mask;
    m.hi = static_cast<std::uint32_t>(in.hi) & bounds_mask;
  };
  const int latency = timing::lane_latency(cycles, dsp16);  // edges from the load to the result
  std::deque<std::pair<long, In>> inflight;      // the edge that registers each element's result
  int checked = 0;
  arith::Range range{};
  long edge = 0;
  for (int n = 0; n < 20000; ++n) {
    // CONFIG's out_range_bits (2 to 16) sets the bounds. They are not pipelined (the accelerator changes them only
    // while the lanes are empty), so an output is saturated by the bounds present when it is registered: those
    // given with the newest input. They change every 64 inputs here.
    if (n % 64 == 0) range = arith::activation_range(static_cast<int>(uniform(2, 16)), uniform(0, 1) != 0);
    const In in = draw(range);
    for (int k = 0; k < cycles; ++k) {
      drive(k == 0 ? in : draw(range));  // after its load, the lane's inputs belong to no element
      if constexpr (requires { m.load; }) m.load = k == 0;
      if (k == 0) inflight.push_back({edge + latency - 1, in});
      tick(m);
      if (!inflight.empty() && inflight.front().first == edge) {
        const In& e = inflight.front().second;
        ASSERT_EQ(static_cast<std::int64_t>(m.out), post_reference(e.add, e.x, e.y, e.a, e.b, e.shift, range.lo, range.hi))
            << (e.add ? "add" : "requantize") << " x=" << e.x << " y=" << e.y << " a=" << e.a << " b=" << e.b << " shift=" << e.shift;
        inflight.pop_front();
        ++checked;
      }
      ++edge;
    }
  }
  EXPECT_GT(checked, 19000);
}

TEST(HwPost, RequantizeAndAddMatchTheContract) { check_post<Vfaq_post>(1, 3); }
// fpga/configs/hx8k_20x2.json's digit-serial lane: 4-bit digits, an element every 8 cycles
TEST(HwPost, DigitSerialLaneMatchesTheContract) { check_post<Vfaq_post_hx8k_20x2>(8, 4); }
// fpga/configs/ice40_4x2.json's lane: STORE's product whole (32 x 32) for the UP5K's 16x16 DSP blocks
TEST(HwPost, DspShapedLaneMatchesTheContract) { check_post<Vfaq_post_ice40_4x2>(1, 5, true); }

}  // namespace
}  // namespace faq::hw
