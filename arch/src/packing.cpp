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

}  // namespace faq::packing
