// The cycle model of the accelerator (docs/cycle-model.md): an in-order issue stage feeding four units —
// LD (LOAD: DRAM -> buffers), PL (PRELOAD: WBUF -> the shadow weight bank), EX (MATMUL: the systolic array) and
// ST (STORE, VADD, POOL: post-processing unit -> DRAM) — that run concurrently. An instruction issues, at most
// one per cycle and in program order, once its unit is free, the memory channels it uses are free (a read and a
// write channel of mem_port_bits each, as AXI has: LOAD reads, STORE writes, VADD and POOL hold both), and no
// instruction of another unit still writes what it reads or touches what it writes
// (resources: the two halves of SPAD, WBUF and ACC, the two weight banks, PARAM). CONFIG is
// a barrier: it waits until every unit has finished. Durations depend only on the instruction fields and the
// configuration, so the model is exact for the RTL that implements the same rules.
#pragma once

#include "faq/config.h"
#include "faq/isa.h"
#include "faq/timing.h"

#include <array>
#include <cstdint>
#include <span>
#include <string_view>
#include <vector>

namespace faq::sim {

enum class Unit : std::uint8_t { Ld, Pl, Ex, St };
inline constexpr int kUnits = 4;
std::string_view to_string(Unit u);

struct TimingOptions {
  int mem_latency = 20;    // cycles from a DRAM read request to its data
  // pipeline depth of the post-processing lanes (bias, requantize, clamp) after an element's last multiplier cycle;
  // -1: the configuration's (timing::post_drain_latency)
  int post_latency = -1;
};

// Per-instruction timing: when it issued, how long its unit was occupied and when its results were complete.
struct Timing {
  std::uint64_t issue = 0, busy_until = 0, done = 0;
  std::uint64_t macs = 0;            // array MAC slots used (products x rows x cols per streamed line)
  std::uint64_t array_lines = 0;    // MATMUL: activation lines streamed
  std::uint64_t dram_read = 0, dram_written = 0;
  Unit unit = Unit::Ld;
};

// Totals since construction (or since the last `take_totals`).
struct Totals {
  std::uint64_t cycles = 0;                        // completion time of the last instruction
  std::array<std::uint64_t, kUnits> busy{};        // cycles each unit was occupied
  std::uint64_t stall_cycles = 0;                  // cycles the issue stage waited beyond one per instruction
  std::uint64_t dram_read = 0, dram_written = 0;   // bytes
  std::uint64_t array_lines = 0;                   // activation lines streamed through the array
};

class CycleModel {
 public:
  explicit CycleModel(const AcceleratorConfig& config, TimingOptions options = {});

  // Times the next instruction of the program (in order). HALT waits for every unit.
  Timing issue(const isa::Instruction& instruction);
  // Completion time of everything issued so far.
  std::uint64_t now() const;
  const Totals& totals() const { return totals_; }
  const TimingOptions& options() const { return options_; }
  int products() const { return config_.products(in_bits_, weight_bits_); }  // per PE and cycle, of the current CONFIG

 private:
  enum Resource : std::uint8_t { Spad0, Spad1, Wbuf0, Wbuf1, Bank0, Bank1, Acc0, Acc1, Param, kResources };
  using Set = std::uint32_t;
  static constexpr Set bit(Resource r) { return Set{1} << r; }
  Set halves(Resource lower, std::int64_t first, std::int64_t last, std::int64_t lines) const;
  std::uint64_t beats(std::uint64_t bytes) const;
  std::uint64_t all_done() const;  // when every unit's results are complete (a barrier's earliest issue)

  AcceleratorConfig config_;
  TimingOptions options_;
  int in_bits_ = 8, weight_bits_ = 8, out_bits_ = 8, res_bits_ = 8;
  std::uint64_t in_pixel_stride_ = 0, out_pixel_stride_ = 0;
  std::uint64_t last_issue_ = 0;
  bool started_ = false;
  std::array<std::uint64_t, kUnits> unit_free_{}, unit_done_{};
  std::uint64_t read_port_free_ = 0, write_port_free_ = 0;
  // Per resource and unit: when that unit's last read and last write of the resource complete.
  std::array<std::array<std::uint64_t, kUnits>, kResources> read_done_{}, write_done_{};
  Totals totals_;
};

// Per layer of a compiled program (instructions [layer_first[l], layer_first[l + 1]) ): CONFIG starts every
// layer and waits for the previous one to finish, so the layers' cycles add up to the program's.
struct LayerTiming {
  std::uint64_t cycles = 0;
  std::uint64_t array_lines = 0;                 // lines streamed through the array (each uses rows x cols PEs)
  int products = 1;                              // products per PE and cycle of the layer's CONFIG (its last)
  std::uint64_t dram_read = 0, dram_written = 0;
  std::array<std::uint64_t, kUnits> busy{};
};
std::vector<LayerTiming> time_layers(std::span<const isa::Instruction> code, std::span<const std::size_t> layer_first,
                                     const AcceleratorConfig& config, TimingOptions options = {});

}  // namespace faq::sim
