// Bit-level packing; lanes are at most 32 bits wide.
#include "faq/packing.h"

#include "faq/arithmetic.h"

namespace faq::packing {

void write_lanes(std::uint8_t* line, const std::int64_t* values, int lanes, int bits) {
  for (int lane = 0; lane < lanes; ++lane) {
    const auto raw = static_cast<std::uint64_t>(values[lane]);
    for (int b = 0; b < bits; ++b) {
      const int bit = lane * bits + b;
      auto& byte = line[bit / 8];
      const auto mask = static_cast<std::uint8_t>(1u << (bit % 8));
      byte = static_cast<std::uint8_t>(((raw >> b) & 1u) ? (byte | mask) : (byte & ~mask));
    }
  }
}

void read_lanes(const std::uint8_t* line, std::int64_t* values, int lanes, int bits, bool is_signed) {
  for (int lane = 0; lane < lanes; ++lane) {
    std::uint64_t raw = 0;
    for (int b = 0; b < bits; ++b) {
      const int bit = lane * bits + b;
      raw |= static_cast<std::uint64_t>((line[bit / 8] >> (bit % 8)) & 1u) << b;
    }
    values[lane] = is_signed ? arith::wrap(static_cast<std::int64_t>(raw), bits) : static_cast<std::int64_t>(raw);
  }
}

void write_param_entry(std::uint8_t* at, const ParamEntry& entry) {
  const std::int64_t words[2] = {entry.a, entry.b};
  write_lanes(at, words, 2, 32);
  at[8] = entry.shift;
}

ParamEntry read_param_entry(const std::uint8_t* at) {
  std::int64_t words[2];
  read_lanes(at, words, 2, 32, true);
  return {static_cast<std::int32_t>(words[0]), static_cast<std::int32_t>(words[1]), at[8]};
}

}  // namespace faq::packing
