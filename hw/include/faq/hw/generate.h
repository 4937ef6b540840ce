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
  int act = 9;        // activations in the array: act_bits + 1, signed (holds unsigned act_bits lanes too)
  int weight = 8;     // weights: weight_bits, signed
  int psum = 32;      // partial sums and accumulators: acc_bits, wrapping
  explicit Widths(const AcceleratorConfig& config);
};

// Processing element: weight-stationary MAC with two weight registers (banks). Activations move right, partial
// sums move down, both registered; the bank select and a valid bit travel with the activation; weights shift down
// the column into the bank named by `w_bank` while `w_shift` is high.
Module pe_module(const AcceleratorConfig& config);
// Precision-scalable PE (issue 7, first part; Bit Fusion's idea): four 5x5-bit signed multipliers that compose one
// 9x8-bit product (W8A8), or two 9x4 (W4A8: one activation, two output channels), two 5x8 (W8A4: two input
// channels, one output channel) or four 5x4 products (W4A4: two input x two output channels) per cycle.
//   mode_in: 0 W8A8, 1 W4A8, 2 W8A4, 3 W4A4 (bit 0: 4-bit weights, bit 1: 4-bit activations); it travels with
//   the activation (mode_out, registered, like a_valid and a_bank), so each line carries its own precision and no
//   mode signal is broadcast across the array
//   a_in (10 bits): one 9-bit signed activation (8-bit modes), or lanes a0 = [4:0], a1 = [9:5] (5-bit signed)
//   weights (16 bits per bank): W8A8 w = [7:0]; W4A8 w(out 0) = [3:0], w(out 1) = [7:4]; W8A4 w(in 0) = [7:0],
//   w(in 1) = [15:8]; W4A4 w(in i, out o) = [4(2o + i) +: 4]
//   psum0/psum1: the partial sums of output channels 0 and 1 (psum1 passes through unchanged in W8A8 and W8A4).
// Not yet used by the array, the compiler or the simulators (docs/scaling.md, "Precision-scalable PE").
Module scalable_pe_module(const AcceleratorConfig& config);
// The array of scalable PEs (faq_array_scalable): the same skew, de-skew and latency as faq_array, 10-bit activation
// lanes, 16-bit weight lanes, a 2-bit mode per activation line (skewed with it) and two partial sums per column (out_line: column c's output
// channels 0 and 1 at [(2c + o)·acc_bits +: acc_bits]). Not yet used by the accelerator.
Module scalable_array_module(const AcceleratorConfig& config);
// rows x cols PEs with input skew and output de-skew: one activation line (rows lanes) in per cycle, one line of
// cols partial sums out per cycle, `latency()` cycles later.
Module array_module(const AcceleratorConfig& config);
using timing::array_latency;
// One lane of the post-processing unit, 4 pipeline stages (docs/arithmetic.md):
//   mode 0 (STORE, average POOL): saturate(rounding_shift_right(wrap32(x + a) * b, shift), [lo, hi])
//   mode 1 (VADD):               saturate(rounding_shift_right(x * a + y * b, shift), [lo, hi])
// The bounds lo and hi are kSaturationBits-bit signed inputs, not pipelined: they must hold while values are in the
// lane (CONFIG, which sets them, waits until nothing is in flight).
Module post_module();
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
