// Corners of docs/arithmetic.md: rounding ties of both signs, saturation at both ends, shift 0 and 63,
// extreme multipliers, accumulator wrap-around, and the real-scale to (multiplier, shift) conversion.
#include "faq/arithmetic.h"
#include "faq/error.h"
#include "faq/reference.h"

#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <random>

namespace faq::arith {
namespace {

constexpr std::int64_t kI64Min = std::numeric_limits<std::int64_t>::min();
constexpr std::int64_t kI64Max = std::numeric_limits<std::int64_t>::max();
constexpr std::int32_t kI32Min = std::numeric_limits<std::int32_t>::min();
constexpr std::int32_t kI32Max = std::numeric_limits<std::int32_t>::max();

// Independent definition: floor(v / 2^s + 1/2) in long double, whose mantissa (64 bits on x86-64, 113 on
// aarch64) holds v / 2^s + 1/2 exactly for every int64 v and shift s in [1, 63].
std::int64_t shift_reference(std::int64_t v, int s) {
  if (s == 0) return v;
  const long double exact = std::ldexp(static_cast<long double>(v), -s);
  return static_cast<std::int64_t>(std::floor(exact + 0.5L));
}

TEST(Ranges, ActivationAndWeight) {
  EXPECT_EQ(activation_range(4, false), (Range{0, 15}));
  EXPECT_EQ(activation_range(4, true), (Range{-8, 7}));
  EXPECT_EQ(activation_range(8, true), (Range{-128, 127}));
  EXPECT_EQ(activation_range(2, false), (Range{0, 3}));
  EXPECT_EQ(weight_range(4), (Range{-7, 7}));
  EXPECT_EQ(weight_range(8), (Range{-127, 127}));
  EXPECT_EQ(weight_range(2), (Range{-1, 1}));
}

TEST(RoundingShift, TiesRoundTowardPlusInfinity) {
  EXPECT_EQ(rounding_shift_right(5, 1), 3);    // 2.5 -> 3
  EXPECT_EQ(rounding_shift_right(-5, 1), -2);  // -2.5 -> -2
  EXPECT_EQ(rounding_shift_right(3, 1), 2);    // 1.5 -> 2
  EXPECT_EQ(rounding_shift_right(-3, 1), -1);  // -1.5 -> -1
  EXPECT_EQ(rounding_shift_right(-1, 1), 0);   // -0.5 -> 0
  EXPECT_EQ(rounding_shift_right(6, 2), 2);    // 1.5 -> 2
  EXPECT_EQ(rounding_shift_right(-6, 2), -1);  // -1.5 -> -1
  EXPECT_EQ(rounding_shift_right(-7, 2), -2);  // -1.75 -> -2
  EXPECT_EQ(rounding_shift_right(9, 2), 2);    // 2.25 -> 2
}

TEST(RoundingShift, ShiftZeroAndSixtyThree) {
  for (std::int64_t v : {kI64Min, std::int64_t{-1}, std::int64_t{0}, std::int64_t{1}, kI64Max})
    EXPECT_EQ(rounding_shift_right(v, 0), v);
  EXPECT_EQ(rounding_shift_right(kI64Max, 63), 1);   // (2^63-1)/2^63 ~ 1 - 2^-63 -> 1
  EXPECT_EQ(rounding_shift_right(kI64Min, 63), -1);  // exactly -1
  EXPECT_EQ(rounding_shift_right(std::int64_t{1} << 62, 63), 1);  // exactly 0.5 -> 1
  EXPECT_EQ(rounding_shift_right(-(std::int64_t{1} << 62), 63), 0);  // exactly -0.5 -> 0
  EXPECT_EQ(rounding_shift_right((std::int64_t{1} << 62) - 1, 63), 0);
}

TEST(RoundingShift, MatchesWideReferenceOnRandomValues) {
  std::mt19937_64 rng(7);
  for (int i = 0; i < 100000; ++i) {
    const auto v = static_cast<std::int64_t>(rng());
    const int s = static_cast<int>(rng() % 64);
    ASSERT_EQ(rounding_shift_right(v, s), shift_reference(v, s)) << v << " >> " << s;
  }
}

TEST(Wrap, TwoComplementOverflow) {
  EXPECT_EQ(wrap(std::int64_t{1} << 31, 32), kI32Min);
  EXPECT_EQ(wrap(std::int64_t{kI32Min} - 1, 32), kI32Max);
  EXPECT_EQ(wrap(std::int64_t{3} << 32 | 5, 32), 5);
  EXPECT_EQ(wrap(1 << 19, 20), -(1 << 19));
  EXPECT_EQ(wrap(-1, 20), -1);
  EXPECT_EQ(wrap(kI64Max, 64), kI64Max);
}

TEST(Requantize, SaturatesAtBothEnds) {
  const Requant one{1 << 30, 30};  // x1.0
  EXPECT_EQ(requantize(1000, one, activation_range(8, true)), 127);
  EXPECT_EQ(requantize(-1000, one, activation_range(8, true)), -128);
  EXPECT_EQ(requantize(-5, one, activation_range(4, false)), 0);  // ReLU by unsigned saturation
  EXPECT_EQ(requantize(20, one, activation_range(4, false)), 15);
  EXPECT_EQ(requantize(7, one, activation_range(4, false)), 7);
}

TEST(Requantize, ExtremeMultipliersAndAccumulators) {
  const Range wide{kI64Min, kI64Max};
  const Requant max_m{kI32Max, 0};
  EXPECT_EQ(requantize(kI32Min, max_m, wide), std::int64_t{kI32Min} * kI32Max);
  EXPECT_EQ(requantize(kI32Max, max_m, wide), std::int64_t{kI32Max} * kI32Max);
  EXPECT_EQ(requantize(kI32Min, {kI32Max, 63}, wide), 0);    // -2^62 + 2^31 over 2^63 ~ -0.49999 -> 0
  EXPECT_EQ(requantize(kI32Min, {kI32Max, 62}, wide), -1);   // ~ -0.99999 -> -1
  EXPECT_EQ(requantize(kI32Max, {0, 10}, wide), 0);
  EXPECT_EQ(requantize(kI32Min, max_m, activation_range(8, true)), -128);
  EXPECT_EQ(requantize(kI32Max, max_m, activation_range(8, true)), 127);
  // Half-way ties in requantization: 3 * 2^30 >> 31 = 1.5 -> 2; -3 * 2^30 >> 31 = -1.5 -> -1.
  EXPECT_EQ(requantize(3, {1 << 30, 31}, wide), 2);
  EXPECT_EQ(requantize(-3, {1 << 30, 31}, wide), -1);
}

TEST(QuantizeMultiplier, ExactCases) {
  EXPECT_EQ(quantize_multiplier(1.0), (Requant{1 << 30, 30}));
  EXPECT_EQ(quantize_multiplier(0.5), (Requant{1 << 30, 31}));
  EXPECT_EQ(quantize_multiplier(0.75), (Requant{3 << 29, 31}));
  EXPECT_EQ(quantize_multiplier(0.0), (Requant{0, 0}));
  EXPECT_EQ(quantize_multiplier(2147483647.0), (Requant{kI32Max, 0}));
  EXPECT_EQ(quantize_multiplier(std::ldexp(1.0, -40)), (Requant{1 << 23, 63}));  // shift would be 71
  EXPECT_EQ(quantize_multiplier(1e-30), (Requant{0, 63}));
  // Mantissa just below 1 rounds to 2^31 and is renormalised to 2^30 with one less shift.
  EXPECT_EQ(quantize_multiplier(1.0 - std::ldexp(1.0, -40)), (Requant{1 << 30, 30}));
}

TEST(QuantizeMultiplier, RejectsImpossibleScales) {
  EXPECT_THROW(quantize_multiplier(-1.0), InputError);
  EXPECT_THROW(quantize_multiplier(std::nan("")), InputError);
  EXPECT_THROW(quantize_multiplier(std::numeric_limits<double>::infinity()), InputError);
  EXPECT_THROW(quantize_multiplier(2147483648.0), InputError);
}

TEST(QuantizeMultiplier, RelativeErrorBelowTwoToMinus31) {
  std::mt19937_64 rng(3);
  std::uniform_real_distribution<double> exponent(-30, 30);
  for (int i = 0; i < 10000; ++i) {
    const double r = std::pow(2.0, exponent(rng));
    const Requant q = quantize_multiplier(r);
    const double back = std::ldexp(static_cast<double>(q.multiplier), -q.shift);
    ASSERT_LE(std::abs(back - r) / r, std::ldexp(1.0, -31)) << r;
    ASSERT_GE(q.multiplier, 1 << 30);
  }
}

TEST(AddRequant, SharedShiftAndRounding) {
  const AddRequant q = quantize_add_multipliers(1.0, 1.0, 1.0);
  EXPECT_EQ(q, (AddRequant{1 << 30, 1 << 30, 30}));
  EXPECT_EQ(add_requantize(3, 4, q, activation_range(8, true)), 7);
  EXPECT_EQ(add_requantize(100, 100, q, activation_range(8, true)), 127);
  const AddRequant half = quantize_add_multipliers(1.0, 1.0, 2.0);  // (a + b) / 2
  EXPECT_EQ(add_requantize(1, 2, half, activation_range(8, true)), 2);    // 1.5 -> 2
  EXPECT_EQ(add_requantize(-1, -2, half, activation_range(8, true)), -1);  // -1.5 -> -1
  const AddRequant skew = quantize_add_multipliers(4.0, 0.25, 1.0);
  EXPECT_EQ(skew.multiplier_a, 1 << 30);
  EXPECT_EQ(skew.shift, 28);
  EXPECT_EQ(add_requantize(2, 8, skew, activation_range(16, true)), 10);
  EXPECT_THROW(quantize_add_multipliers(0.0, 1.0, 1.0), InputError);
  EXPECT_THROW(quantize_add_multipliers(1e10, 1.0, 1.0), InputError);
}

TEST(QuantizeValue, RoundHalfEvenAndSaturate) {
  EXPECT_EQ(quantize_value(2.5, 1.0, activation_range(8, true)), 2);
  EXPECT_EQ(quantize_value(3.5, 1.0, activation_range(8, true)), 4);
  EXPECT_EQ(quantize_value(-2.5, 1.0, activation_range(8, true)), -2);
  EXPECT_EQ(quantize_value(1e9, 1.0, activation_range(8, true)), 127);
  EXPECT_EQ(quantize_value(-1e9, 0.5, weight_range(4)), -7);
  EXPECT_EQ(quantize_value(0.74, 0.25, activation_range(4, false)), 3);
  EXPECT_THROW(quantize_value(1.0, 0.0, activation_range(8, true)), InputError);
}

// The accumulator of a layer wraps modulo 2^32 (docs/arithmetic.md, "Accumulation"): a linear layer whose
// exact sum is 3 * 32767^2 + 1 = 3,221,028,868 > 2^31 - 1 produces the wrapped value -1,073,938,428.
TEST(Accumulator, WrapsModulo2To32) {
  Layer layer;
  layer.name = "fc";
  layer.op = OpKind::Linear;
  layer.weight_bits = 16;
  layer.weight = {{1, 3}, {32767, 32767, 32767}};
  layer.bias = {1};
  layer.requant = {{1 << 30, 30}};
  layer.weight_scale = {1.0f};
  layer.out = {{1, 1, 1}, 16, true, 1.0};
  const IntTensor input{{3, 1, 1}, {32767, 32767, 32767}};
  const IntTensor out = run_layer(layer, {&input});
  const std::int64_t exact = 3LL * 32767 * 32767 + 1;
  const std::int64_t wrapped = exact - (std::int64_t{1} << 32);
  EXPECT_EQ(wrapped, -1073938428);
  EXPECT_EQ(out.data[0], -32768);  // the wrapped (negative) accumulator saturates low, not high
  layer.requant = {{1, 0}};         // x1 with shift 0: the wrapped value itself, saturated to 16 bits
  layer.out.bits = 16;
  EXPECT_EQ(run_layer(layer, {&input}).data[0], -32768);
  layer.weight = {{1, 3}, {32767, 32767, 0}};  // 2 * 32767^2 + 1 = 2147352579 fits: no wrap
  layer.requant = {{1 << 30, 46}};             // / 2^16
  EXPECT_EQ(run_layer(layer, {&input}).data[0], 32766);  // 2147352579 / 65536 = 32765.99 -> 32766
}

}  // namespace
}  // namespace faq::arith
