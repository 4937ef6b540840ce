// Packing of lanes into DRAM lines (docs/isa.md §2, "Lines in DRAM"): lane i of b bits occupies bits
// [i*b, (i+1)*b) of the line read as one little-endian bit string; signed lanes are two's complement.
// The compiler, the simulator and the test benches all pack and unpack through these functions.
#pragma once

#include <cstdint>

namespace faq::packing {

// The lane width a tensor of `bits` is stored with: the next of 2, 4, 8, 16, 32.
constexpr int lane_bits(int bits) { return bits <= 2 ? 2 : bits <= 4 ? 4 : bits <= 8 ? 8 : bits <= 16 ? 16 : 32; }

void write_lanes(std::uint8_t* line, const std::int64_t* values, int lanes, int bits);

// A PARAM entry in DRAM (docs/isa.md §2): int32 a, int32 b, uint8 shift, little-endian, 9 bytes.
inline constexpr int kParamEntryBytes = 9;
struct ParamEntry {
  std::int32_t a = 0;
  std::int32_t b = 0;
  std::uint8_t shift = 0;
};
void write_param_entry(std::uint8_t* at, const ParamEntry& entry);
ParamEntry read_param_entry(const std::uint8_t* at);
void read_lanes(const std::uint8_t* line, std::int64_t* values, int lanes, int bits, bool is_signed);

}  // namespace faq::packing
