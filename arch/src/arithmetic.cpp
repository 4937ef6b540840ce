// Conversions from real scales to the integer (multiplier, shift) pairs of docs/arithmetic.md. All steps are
// exact in IEEE double: frexp and ldexp only change the exponent, and nearbyint rounds half to even in the
// default rounding mode, which this library never changes.
#include "faq/arithmetic.h"

#include "faq/error.h"

#include <cmath>

namespace faq::arith {

namespace {

double round_half_even(double x) { return std::nearbyint(x); }

void check_scale(double scale, const char* what) {
  if (!std::isfinite(scale) || scale <= 0) fail_input("{} scale {} is not a positive finite number", what, scale);
}

}  // namespace

Requant quantize_multiplier(double real_scale) {
  if (!std::isfinite(real_scale) || real_scale < 0)
    fail_input("requantization scale {} is not a non-negative finite number", real_scale);
  if (real_scale == 0) return {0, 0};
  int exponent = 0;
  const double mantissa = std::frexp(real_scale, &exponent);  // real = mantissa * 2^exponent, mantissa in [0.5, 1)
  auto multiplier = static_cast<std::int64_t>(round_half_even(std::ldexp(mantissa, 31)));
  if (multiplier == (std::int64_t{1} << 31)) {
    multiplier >>= 1;
    ++exponent;
  }
  int shift = 31 - exponent;
  if (shift < 0) fail_input("requantization scale {} is too large (must be below 2^31 - 1/2)", real_scale);
  if (shift > kMaxShift) {
    shift = kMaxShift;
    multiplier = static_cast<std::int64_t>(round_half_even(std::ldexp(real_scale, kMaxShift)));
  }
  return {static_cast<std::int32_t>(multiplier), shift};
}

AddRequant quantize_add_multipliers(double scale_a, double scale_b, double scale_out) {
  check_scale(scale_a, "residual input a");
  check_scale(scale_b, "residual input b");
  check_scale(scale_out, "residual output");
  const double ratio_a = scale_a / scale_out;
  const double ratio_b = scale_b / scale_out;
  for (int shift = kMaxShift; shift >= 0; --shift) {
    const double ma = round_half_even(std::ldexp(ratio_a, shift));
    const double mb = round_half_even(std::ldexp(ratio_b, shift));
    if (ma <= static_cast<double>(kMaxMultiplier) && mb <= static_cast<double>(kMaxMultiplier))
      return {static_cast<std::int32_t>(ma), static_cast<std::int32_t>(mb), shift};
  }
  fail_input("residual scale ratios {} and {} are too large (must be below 2^31 - 1/2)", ratio_a, ratio_b);
}

std::int64_t quantize_value(double x, double scale, Range range) {
  check_scale(scale, "quantization");
  const double q = round_half_even(x / scale);
  if (std::isnan(q)) fail_input("cannot quantize NaN");
  if (q <= static_cast<double>(range.lo)) return range.lo;
  if (q >= static_cast<double>(range.hi)) return range.hi;
  return static_cast<std::int64_t>(q);
}

}  // namespace faq::arith
