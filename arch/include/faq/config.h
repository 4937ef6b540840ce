// AcceleratorConfig: the one description of an accelerator instance. The compiler tiles for it, the
// simulators model it and the RTL generator builds it; every derived number (line widths, buffer depths)
// is a member function here, so no stage restates it. hash() covers every hardware-relevant field plus the
// ISA signature, and travels with every program and every generated RTL so that mismatched pairs are refused.
#pragma once

#include <nlohmann/json_fwd.hpp>

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace faq {

enum class Dataflow { WeightStationary };

struct AcceleratorConfig {
  std::string name = "custom";  // informative only; not part of the hash
  int rows = 16;                // PE rows: the reduction (input-channel) dimension of a weight tile
  int cols = 16;                // PE columns: output channels computed in parallel
  int weight_bits = 8;          // widest weight the PEs multiply (signed); layers may use fewer
  int act_bits = 8;             // widest activation the PEs multiply; layers may use fewer
  int acc_bits = 32;            // accumulator width; sums wrap modulo 2^acc_bits (docs/arithmetic.md)
  int spad_kib = 256;           // activation scratchpad
  int wbuf_kib = 64;            // weight buffer
  int acc_kib = 64;             // accumulator buffer
  int param_kib = 16;           // post-processing parameters (bias, multiplier, shift per channel)
  int mem_port_bits = 128;      // external memory port width
  int dram_addr_bits = 32;      // DRAM byte addresses the accelerator forms (12 to 32): a board's memory of 2^n bytes
                                // needs only n-bit address registers and adders; every access must lie below 2^n
  int post_lanes = 0;           // post-processing lanes (requantize, add); 0: one per column. Fewer lanes take
                                // cols / post_lanes cycles per line (an FPGA's few multipliers, less area)
  int post_mult_cycles = 1;     // cycles a lane takes per element (1, 2, 4, 8): n > 1 multiplies digit-serially,
                                // 32/n bits of the second operands per cycle (FPGAs without multipliers)
  bool post_dsp16 = false;      // the lanes' products shaped for 16x16 DSP blocks (iCE40 UP5K): STORE's 32-bit
                                // biased accumulator multiplied whole, not in 16-bit halves (docs/hw.md)
  bool pe_booth = false;        // the PEs' products as radix-4 Booth digits of the weight, each added into the partial
                                // sum by its own adder, its sign the carry in: LUT4 FPGAs (a fifth fewer; docs/hw.md)
  bool adder_tree = false;      // each column sums its PEs' products in a pipelined adder tree instead of passing
                                // partial sums down a systolic chain: no input skew or output de-skew, a shorter
                                // array latency (timing::array_latency); tall arrays on FPGAs (docs/hw.md)
  bool parallel_pairs = false;  // with adder_tree: the two PEs of a pair make their products side by side and the
                                // array adds them (a carry chain fewer on the pair's path, more logic) instead of
                                // the second PE adding its product onto the first's sum (docs/hw.md)
  bool delay_memory = false;    // the delay lines beside the array and the lanes (the ACC line, the DRAM address
                                // and flags that travel with a line) in memory, not flip-flops: block RAM on an FPGA
  bool scalable = false;        // precision-scalable PEs (W8A8 only): per layer, a PE multiplies one 8x8 pair, or
                                // sums two (W4A8, W8A4) or four (W4A4) products of a longer reduction per cycle
  bool pool_unit = true;        // the POOL instruction (max and average pooling in ST); without it average pooling
                                // is compiled as a convolution and max pooling is refused (an FPGA's few cells)
  bool serial_issue = false;    // an instruction issues only when every earlier one is complete: no scoreboard and
                                // no overlap of the units (the smallest FPGAs; docs/cycle-model.md)
  Dataflow dataflow = Dataflow::WeightStationary;

  // Throws InputError naming the first offending field. `origin` names the file or preset in the message.
  void validate(std::string_view origin = "config") const;

  // Products a PE sums per cycle for a layer of `in_bits` activations and `weight_bits` weights (CONFIG's lane
  // widths): 1 unless scalable; then 2 per operand of at most 4 bits. A layer's array is then
  // products x rows deep: SPAD lines hold products x rows lanes, WBUF lines products x cols (docs/isa.md).
  static constexpr int kNarrowOperandBits = 4;  // an operand of at most this width is packed two per PE slot
  int products(int in_bits, int layer_weight_bits) const {
    return scalable ? (in_bits <= kNarrowOperandBits ? 2 : 1) * (layer_weight_bits <= kNarrowOperandBits ? 2 : 1) : 1;
  }
  int max_products() const { return scalable ? 4 : 1; }

  // Derived quantities. Lines are the unit of addressing of each buffer. A scalable array's lines are twice as
  // wide (four 4-bit or two 8-bit lanes per PE row or column).
  int spad_line_bits() const { return rows * act_bits * (scalable ? 2 : 1); }    // `rows` lanes (scalable: up to 4·rows)
  int wbuf_line_bits() const { return cols * weight_bits * (scalable ? 2 : 1); }  // `cols` lanes (scalable: up to 4·cols)
  int acc_line_bits() const { return cols * acc_bits; }      // one accumulator vector: `cols` lanes
  static constexpr int kParamEntryBits = 8 * 9;               // int32 a, int32 b, uint8 shift (packing::kParamEntryBytes)
  int param_line_bits() const { return cols * kParamEntryBits; }
  std::int64_t spad_lines() const;
  std::int64_t wbuf_lines() const;
  std::int64_t acc_lines() const;
  std::int64_t param_lines() const;
  int pes() const { return rows * cols; }
  std::uint64_t dram_bytes() const { return std::uint64_t{1} << dram_addr_bits; }  // the addressable DRAM
  int post_lane_count() const { return post_lanes > 0 ? post_lanes : cols; }
  int post_groups() const { return cols / post_lane_count(); }  // groups of lanes' width per line
  int lane_cycles() const { return post_groups() * post_mult_cycles; }  // cycles a line takes in the lanes

  // Canonical text of the hashed fields, e.g. "rows=16;cols=16;...;isa=<signature hash>".
  std::string canonical() const;
  std::uint64_t hash() const;
  std::string hash_hex() const;

  nlohmann::json to_json() const;
  // Reads a config from JSON; unknown keys and wrong types are errors naming the key. Validates.
  static AcceleratorConfig from_json(const nlohmann::json& j, std::string_view origin);
  static AcceleratorConfig from_file(const std::string& path);
  // A preset kept in arch/presets/ (compiled into the library), or a path to a JSON file.
  static AcceleratorConfig load(const std::string& name_or_path);
  static std::vector<std::string> preset_names();
};

std::string_view to_string(Dataflow dataflow);

}  // namespace faq
