// Packing of lanes into DRAM lines (docs/isa.md §2, "Lines in DRAM"): lane i of b bits occupies bits
// [i*b, (i+1)*b) of the line read as one little-endian bit string; signed lanes are two's complement.
// The compiler, the simulator and the test benches all pack and unpack through these functions.
#pragma once

#include <cstdint>

namespace faq::packing {

// The lane width a tensor of `bits` is stored with: the next of 2, 4, 8, 16, 32.
constexpr int lane_bits(int bits) { return bits <= 2 ? 2 : bits <= 4 ? 4 : bits <= 8 ? 8 : bits <= 16 ? 16 : 32; }

void write_lanes(std::uint8_t* line, const std::int64_t* values, int lanes, int bits);
void read_lanes(const std::uint8_t* line, std::int64_t* values, int lanes, int bits, bool is_signed);

}  // namespace faq::packing
