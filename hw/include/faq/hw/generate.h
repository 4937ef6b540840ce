// The accelerator's RTL generated for one AcceleratorConfig (docs/hw.md). Every module name carries no
// configuration; every file carries the configuration hash in its header.
#pragma once

#include "faq/config.h"
#include "faq/hw/verilog.h"
#include "faq/timing.h"

#include <string>
#include <vector>

namespace faq::hw {

// Widths derived from the configuration (one place).
struct Widths {
  int act = 9;        // activations in the array: act_bits + 1, signed (holds unsigned act_bits lanes too);
                      // scalable: kScalableActBits per PE row
  int weight = 8;     // weights: weight_bits, signed; scalable: kScalableWeightBits per PE column
  int psum = 32;      // partial sums and accumulators: acc_bits, wrapping
  explicit Widths(const AcceleratorConfig& config);
};

// Processing element: weight-stationary MAC with two weight registers (banks). Activations move right, partial
// sums move down, both registered; the bank select and a valid bit travel with the activation; weights shift down
// the column, each bank its own chain (w_in0/w_out0, w_in1/w_out1), into the bank named by `w_bank` while `w_shift`
// is high. With `pe_booth` the product is added digit by digit of the weight (radix-4 Booth, docs/hw.md).
Module pe_module(const AcceleratorConfig& config);
// With `scalable` (docs/hw.md, "Precision-scalable PE"): four 5x5-bit signed multipliers whose products are
// shifted and summed into one partial sum: one 9x8-bit product (W8A8), or the sum of two 9x4 (W4A8) or 5x8 (W8A4)
// products, or of four 5x4 products (W4A4), per cycle: the PE row then reduces `products` input channels.
//   mode_in (bit 0: activations of at most 4 bits, bit 1: weights of at most 4 bits) travels with the activation
//   (mode_out, registered, like a_valid and a_bank), so no mode signal is broadcast across the array;
//   a_in (kScalableActBits): `products` slots of 20 / products bits, each a value sign-extended to its slot;
//   weights (kScalableWeightBits per bank): `products` slots of 16 / products bits, likewise.
inline constexpr int kScalableActBits = 16;
inline constexpr int kScalableWeightBits = 16;
inline constexpr int kScalableModeBits = 3;  // activations of at most 4 bits, weights of at most 4 bits, signed activations
// rows x cols PEs with input skew and output de-skew: one activation line (rows lanes) in per cycle, one line of
// cols partial sums out per cycle, `latency()` cycles later.
Module array_module(const AcceleratorConfig& config);
using timing::array_latency;
// One lane of the post-processing unit, 4 pipeline stages (docs/arithmetic.md):
//   mode 0 (STORE, average POOL): saturate(rounding_shift_right(wrap32(x + a) * b, shift), [lo, hi])
//   mode 1 (VADD):               saturate(rounding_shift_right(x * a + y * b, shift), [lo, hi])
// The bounds lo and hi are kSaturationBits-bit signed inputs, not pipelined: they must hold while values are in the
// lane (CONFIG, which sets them, waits until nothing is in flight). With mult_cycles = n > 1 (post_mult_cycles) the
// lane multiplies digit-serially, 32/n bits of a and b per cycle: it takes an element when `load` is high, at most
// one every n cycles, and holds its result timing::post_latency = 4 + n edges later (each digit's products are
// registered before the Horner sum: n cycles of digits plus that stage). Mode 0 splits wrap32(x + a) into 16-bit
// halves so that both modes multiply two 17 x 32 products; with dsp16 (post_dsp16) it is one 32 x 32 product, for
// 16 x 16 DSP blocks, whose pieces are registered before they are summed, and the sum in two registered parts (6
// stages: timing::lane_latency).
Module post_module(int mult_cycles = 1, bool dsp16 = false);
// CONFIG's out_range_bits is at most 16, so the saturation bounds lie in [-2^15, 2^16 - 1]: 18-bit signed values.
inline constexpr int kSaturationBits = 18;
// A lane of a tensor in DRAM has at most 16 bits, signed or unsigned: 17-bit signed values (VADD's residual y).
inline constexpr int kLaneValueBits = 17;
using timing::kPostLatency;

// The top level, faq_accel: fetch, decode (from the ISA table), scoreboarded issue, LD/PL/EX/ST units, buffers,
// memory channels and performance counters (hw/src/accel.cpp, docs/hw.md).
Module accel_module(const AcceleratorConfig& config);

// The whole generated design: one file per module (name.v -> text), each with a header naming the configuration
// and its hash; the order is bottom-up, so that a tool can read the files as listed.
std::vector<std::pair<std::string, std::string>> generate_verilog(const AcceleratorConfig& config);
// The header every generated file carries: generator, configuration name, hash and canonical text.
std::string file_header(const AcceleratorConfig& config);

}  // namespace faq::hw
