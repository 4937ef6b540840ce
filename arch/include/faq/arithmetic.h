// The integer arithmetic of inference: the one implementation that the golden model's integer network,
// the compiler, the instruction-level simulator and the RTL tests call. docs/arithmetic.md specifies every
// rule here precisely enough for an independent bit-exact implementation.
#pragma once

#include <cstdint>

namespace faq::arith {

// Inclusive range of representable integers.
struct Range {
  std::int64_t lo;
  std::int64_t hi;
  constexpr bool contains(std::int64_t v) const { return lo <= v && v <= hi; }
  bool operator==(const Range&) const = default;
};

// Bit widths a tensor may have (activations up to 16, accumulators and logits up to 32).
inline constexpr int kMinBits = 2;
inline constexpr int kMaxTensorBits = 32;
inline constexpr int kMaxWeightBits = 16;

// Activations: signed two's complement [-2^(b-1), 2^(b-1)-1], or unsigned [0, 2^b-1] (ReLU outputs).
constexpr Range activation_range(int bits, bool is_signed) {
  if (is_signed) return {-(std::int64_t{1} << (bits - 1)), (std::int64_t{1} << (bits - 1)) - 1};
  return {0, (std::int64_t{1} << bits) - 1};
}

// Weights: signed and symmetric, [-(2^(b-1)-1), 2^(b-1)-1]; -2^(b-1) is never used.
constexpr Range weight_range(int bits) {
  const std::int64_t hi = (std::int64_t{1} << (bits - 1)) - 1;
  return {-hi, hi};
}

constexpr std::int64_t saturate(std::int64_t v, Range r) { return v < r.lo ? r.lo : (v > r.hi ? r.hi : v); }

// Rounding right shift: floor(v / 2^shift + 1/2), i.e. round half up (toward +infinity) on ties.
// Defined for every int64 v and shift in [0, 63]; never overflows (adds bit shift-1 instead of 2^(shift-1)).
constexpr std::int64_t rounding_shift_right(std::int64_t v, int shift) {
  if (shift == 0) return v;
  return (v >> shift) + ((v >> (shift - 1)) & 1);
}

// Two's complement wrap of v to `bits` bits (2..64), sign-extended back to int64: what an adder of that
// width computes when a sum overflows.
constexpr std::int64_t wrap(std::int64_t v, int bits) {
  if (bits >= 64) return v;
  const std::uint64_t mask = (std::uint64_t{1} << bits) - 1;
  const std::uint64_t u = static_cast<std::uint64_t>(v) & mask;
  const std::uint64_t sign = std::uint64_t{1} << (bits - 1);
  return static_cast<std::int64_t>(u ^ sign) - static_cast<std::int64_t>(sign);
}

// A real multiplier r represented as multiplier * 2^-shift.
struct Requant {
  std::int32_t multiplier = 0;  // [0, 2^31 - 1]
  int shift = 0;                // [0, 63]
  bool operator==(const Requant&) const = default;
};
inline constexpr int kMaxShift = 63;
inline constexpr std::int64_t kMaxMultiplier = (std::int64_t{1} << 31) - 1;

// y = saturate(rounding_shift_right(acc * multiplier, shift), out). The product is exact in int64.
constexpr std::int64_t requantize(std::int32_t acc, Requant q, Range out) {
  const std::int64_t product = static_cast<std::int64_t>(acc) * q.multiplier;
  return saturate(rounding_shift_right(product, q.shift), out);
}

// The (multiplier, shift) pair of a real scale r >= 0, exactly as docs/arithmetic.md specifies:
// r = m * 2^e with m in [0.5, 1); multiplier = round_half_even(m * 2^31) (renormalised if it reaches 2^31),
// shift = 31 - e; when shift would exceed 63, shift = 63 and multiplier = round_half_even(r * 2^63).
// Throws InputError when r is negative, not finite, or >= 2^31 - 1/2 (shift would be negative).
Requant quantize_multiplier(double real_scale);

// Residual addition y = saturate(rounding_shift_right(a * multiplier_a + b * multiplier_b, shift), out),
// a and b being tensors of (possibly) different scales. The sum is exact in int64 for |a|, |b| < 2^31.
struct AddRequant {
  std::int32_t multiplier_a = 0;
  std::int32_t multiplier_b = 0;
  int shift = 0;
  bool operator==(const AddRequant&) const = default;
};
constexpr std::int64_t add_requantize(std::int32_t a, std::int32_t b, AddRequant q, Range out) {
  const std::int64_t sum = static_cast<std::int64_t>(a) * q.multiplier_a + static_cast<std::int64_t>(b) * q.multiplier_b;
  return saturate(rounding_shift_right(sum, q.shift), out);
}
// The largest shift in [0, 63] for which round_half_even(scale_x / scale_out * 2^shift) <= 2^31 - 1 for both
// inputs, and those two multipliers. Throws InputError for non-positive or non-finite scales, or when even
// shift 0 does not fit.
AddRequant quantize_add_multipliers(double scale_a, double scale_b, double scale_out);

// Float to integer: saturate(round_half_even(x / scale), range). Used for weights, activations (the input
// image) and, with the int32 range, biases (scale = input scale * weight scale).
std::int64_t quantize_value(double x, double scale, Range range);

inline constexpr Range kInt32Range{-(std::int64_t{1} << 31), (std::int64_t{1} << 31) - 1};

}  // namespace faq::arith
