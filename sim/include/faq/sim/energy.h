// The energy model (docs/energy.md): each instruction's events — multiply-accumulates at the layer's operand
// widths, buffer line reads and writes (bits), post-processing operations, DRAM bytes — priced with per-event
// energies from Horowitz, "Computing's energy problem" (ISSCC 2014, 45 nm): multiplier energy quadratic in the
// operand bits (8x8: 0.2 pJ, 32x32: 3.1 pJ), adder energy linear (8 bit: 0.03 pJ, 32 bit: 0.1 pJ), SRAM read
// energy per bit growing with the array size (8 KB: 10 pJ, 32 KB: 20 pJ, 1 MB: 100 pJ per 64-bit access), DRAM
// 1.3-2.6 nJ per 64 bits (taken as 1.95 nJ). Not scaled to another node: the ratios between precisions are the point.
// Optionally the MACs are priced from the synthesized netlists instead (MacEnergies: scripts/mac_energy.py).
#pragma once

#include "faq/config.h"
#include "faq/isa.h"

#include <map>
#include <optional>
#include <span>
#include <string>
#include <utility>
#include <vector>

namespace faq::sim {

struct Energy {
  double mac_pj = 0, onchip_pj = 0, dram_pj = 0;
  double total_pj() const { return mac_pj + onchip_pj + dram_pj; }
  Energy& operator+=(const Energy& o) {
    mac_pj += o.mac_pj;
    onchip_pj += o.onchip_pj;
    dram_pj += o.dram_pj;
    return *this;
  }
};

// Per-event energies (pJ) for a configuration.
struct EnergyCosts {
  static double multiply(int a_bits, int b_bits);   // 0.2 pJ x (a·b / 64)
  static double add(int bits);                      // 0.1 pJ x bits / 32 (0.025 pJ at 8 bits; Horowitz: 0.03)
  // One cycle of a precision-scalable PE, in any mode (its four 5x5 multipliers and adder tree all switch):
  // 4 x multiply(5, 5), two 15-bit and one 20-bit add, the accumulator add.
  static double scalable_pe_cycle(int acc_bits);
  static double sram_bit(double kib);               // per bit read or written, log-interpolated from 8 KB / 32 KB / 1 MB
  static constexpr double kDramPerByte = 1950.0 / 8.0;
};

// Energy per MAC by operand widths, measured on the synthesized arrays (docs/mac_energy.json, written by
// scripts/mac_energy.py: gate-level activity priced by OpenSTA, anchored at the Horowitz model's W8A8 MAC).
class MacEnergies {
 public:
  // Reads the "macs" entries (weight_bits, act_bits, pj_per_mac) of a mac_energy.json; a bad file, entry or field
  // is an InputError naming the file, the entry and the field.
  static MacEnergies load(const std::string& path);
  void set(int weight_bits, int act_bits, double pj) { pj_[{weight_bits, act_bits}] = pj; }
  std::optional<double> find(int weight_bits, int act_bits) const;
  // The energy at these widths; an InputError naming the file, the widths and `needed_by` when it has none.
  double at(int weight_bits, int act_bits, const std::string& needed_by) const;
  // An InputError for a precision-scalable configuration, which the measured (fixed-precision) arrays do not describe.
  void check_fixed(const AcceleratorConfig& config) const;
  std::string source = "(table)";  // the file, for messages

 private:
  std::map<std::pair<int, int>, double> pj_;
};

// Energy of every layer of a program (layers as in time_layers). With `macs`, a MATMUL's MACs are priced from it at
// the layer's operand widths (an InputError when a layer's widths are missing from it, or on a precision-scalable
// array, which it does not describe); otherwise by EnergyCosts.
std::vector<Energy> energy_layers(std::span<const isa::Instruction> code, std::span<const std::size_t> layer_first,
                                  const AcceleratorConfig& config, const MacEnergies* macs = nullptr);

}  // namespace faq::sim
