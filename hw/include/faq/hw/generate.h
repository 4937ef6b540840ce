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
// rows x cols PEs with input skew and output de-skew: one activation line (rows lanes) in per cycle, one line of
// cols partial sums out per cycle, `latency()` cycles later.
Module array_module(const AcceleratorConfig& config);
using timing::array_latency;
// One lane of the post-processing unit, 4 pipeline stages (docs/arithmetic.md):
//   mode 0 (STORE, average POOL): saturate(rounding_shift_right(wrap32(x + a) * b, shift), [lo, hi])
//   mode 1 (VADD):               saturate(rounding_shift_right(x * a + y * b, shift), [lo, hi])
Module post_module();
using timing::kPostLatency;

// The top level, faq_accel: fetch, decode (from the ISA table), scoreboarded issue, LD/PL/EX/ST units, buffers,
// memory channels and performance counters (hw/src/accel.cpp, docs/hw.md).
Module accel_module(const AcceleratorConfig& config);

// The whole generated design: one file per module (name.v -> text), each with a header naming the configuration
// and its hash; the order is bottom-up, so that a tool can read the files as listed.
std::vector<std::pair<std::string, std::string>> generate_verilog(const AcceleratorConfig& config);

}  // namespace faq::hw
