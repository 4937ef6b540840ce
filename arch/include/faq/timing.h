// Pipeline depths of the hardware that the cycle model (sim/) and the RTL generator (hw/) must agree on
// (docs/cycle-model.md, docs/hw.md): one definition, used by both.
#pragma once

#include "faq/config.h"

#include <bit>
#include <cstdint>

namespace faq::timing {

// Stages of a post-processing lane (bias, multiply, rounding shift, saturate).
inline constexpr int kPostLatency = 4;

// Clock edges from the one that captures an element into a lane to the one that registers its result: a
// digit-serial lane (post_mult_cycles = n > 1) sums its products over n cycles instead of one, each digit's
// products registered before they are summed (one stage more); a lane whose products are shaped for 16 x 16 DSP
// blocks (post_dsp16) registers their 16 x 16 pieces before it sums them (one stage more: the blocks' own output
// registers, so that no path runs through a block's multiplier, which nextpnr-ice40 does not time) and the sum in two
// registered parts (one stage more: no path from a block's output register through every carry chain of the sum).
constexpr int lane_latency(int mult_cycles, bool dsp16 = false) {
  return mult_cycles == 1 ? kPostLatency + (dsp16 ? 2 : 0) : kPostLatency + mult_cycles;
}
constexpr int post_latency(const AcceleratorConfig& config) { return lane_latency(config.post_mult_cycles, config.post_dsp16); }
// The lanes' depth after an element's last multiplier cycle: the cycle model counts a digit-serial lane's cycles per
// element with the cycles a line spends in the lanes (docs/cycle-model.md), the rest of post_latency after them.
constexpr int post_drain_latency(const AcceleratorConfig& config) {
  return post_latency(config) - (config.post_mult_cycles > 1 ? config.post_mult_cycles : 0);
}

// Clock edges from the one that captures an activation line into the array to the one that registers its
// output line: one input register, r skew stages and c right moves to reach PE (r, c), rows down, cols - c
// de-skew stages; a precision-scalable PE registers its products' sum before accumulating (one stage more).
// With adder_tree: the input register, the pairs' register and one per level of the tree over ceil(rows / 2) pairs.
constexpr int array_latency(const AcceleratorConfig& config) {
  if (config.adder_tree) return 2 + static_cast<int>(std::bit_width(static_cast<unsigned>((config.rows + 1) / 2 - 1)));
  return config.rows + config.cols + 1 + (config.scalable ? 1 : 0);
}

// Cycles after its last line enters the array until a MATMUL's results may be used: the array, then the
// accumulator read-modify-write, after which the scoreboard sees the completion.
constexpr int matmul_latency(const AcceleratorConfig& config) { return array_latency(config) + 1; }

// The first line of a buffer's upper half: the scoreboard tracks each buffer of `lines` lines as two halves (double
// buffering), and the RTL stores ACC as these two halves.
constexpr std::int64_t upper_half(std::int64_t lines) { return lines / 2 > 1 ? lines / 2 : 1; }

}  // namespace faq::timing
