// Events per instruction (the same fields the cycle model reads), priced by EnergyCosts:
//   LOAD     DRAM bytes read; buffer lines written (line bits of the buffer)
//   PRELOAD  rows WBUF lines read
//   MATMUL   lines x rows x cols MACs at (CONFIG.in_bits x CONFIG.weight_bits) multiply + acc_bits add (or the
//            measured MAC energy of those widths, MacEnergies);
//            on a precision-scalable array lines x rows x cols PE cycles, each four 5x5 multiplies, the two-level
//            sum (two 15-bit adds, one 20-bit add) and the acc_bits add, whatever the mode;
//            lines SPAD reads, lines ACC read-modify-writes
//   STORE    lines ACC reads, cols x lines post-processing (32-bit add, 32x32 multiply), DRAM bytes written
//   VADD     DRAM a, b read and out written; cols x count (two 32x32 multiplies, a 64-bit add)
//   POOL     DRAM taps read, outputs written; one add per tap lane (+ the requantize for average)
#include "faq/sim/energy.h"

#include "faq/error.h"
#include "faq/packing.h"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <cmath>
#include <fstream>

namespace faq::sim {

double EnergyCosts::multiply(int a, int b) { return 0.2 * static_cast<double>(a * b) / 64.0; }
double EnergyCosts::add(int bits) { return 0.1 * static_cast<double>(bits) / 32.0; }
double EnergyCosts::scalable_pe_cycle(int acc_bits) { return 4.0 * multiply(5, 5) + 2.0 * add(15) + add(20) + add(acc_bits); }
double EnergyCosts::sram_bit(double kib) {
  // (KiB, pJ per 64-bit access): (8, 10), (32, 20), (1024, 100); log-linear between, clamped outside
  const double points[3][2] = {{8, 10}, {32, 20}, {1024, 100}};
  const double x = std::log2(std::clamp(kib, 8.0, 1024.0));
  for (int i = 0; i < 2; ++i) {
    const double x0 = std::log2(points[i][0]), x1 = std::log2(points[i + 1][0]);
    if (x <= x1) return (points[i][1] + (points[i + 1][1] - points[i][1]) * (x - x0) / (x1 - x0)) / 64.0;
  }
  return points[2][1] / 64.0;
}

MacEnergies MacEnergies::load(const std::string& path) {
  std::ifstream in(path);
  if (!in) fail_input("{}: cannot open (a MAC energy table: scripts/mac_energy.py writes docs/mac_energy.json)", path);
  const nlohmann::json j = nlohmann::json::parse(in, nullptr, false);
  if (j.is_discarded() || !j.is_object()) fail_input("{}: not a JSON object", path);
  if (!j.contains("macs") || !j["macs"].is_array() || j["macs"].empty()) fail_input("{}: field 'macs' must be a non-empty array", path);
  MacEnergies table;
  table.source = path;
  for (std::size_t n = 0; n < j["macs"].size(); ++n) {
    const nlohmann::json& e = j["macs"][n];
    if (!e.is_object()) fail_input("{}: macs[{}]: not an object", path, n);
    auto bits = [&](const char* field) {
      if (!e.contains(field) || !e[field].is_number_integer() || e[field].get<std::int64_t>() < 1 || e[field].get<std::int64_t>() > 32)
        fail_input("{}: macs[{}]: field '{}' must be an integer from 1 to 32", path, n, field);
      return static_cast<int>(e[field].get<std::int64_t>());
    };
    const int w = bits("weight_bits"), a = bits("act_bits");
    if (!e.contains("pj_per_mac") || !e["pj_per_mac"].is_number() || !std::isfinite(e["pj_per_mac"].get<double>()) ||
        e["pj_per_mac"].get<double>() <= 0)
      fail_input("{}: macs[{}]: field 'pj_per_mac' must be a positive number", path, n);
    if (table.find(w, a)) fail_input("{}: macs[{}]: W{}A{} is given twice", path, n, w, a);
    table.set(w, a, e["pj_per_mac"].get<double>());
  }
  return table;
}

std::optional<double> MacEnergies::find(int weight_bits, int act_bits) const {
  const auto it = pj_.find({weight_bits, act_bits});
  return it == pj_.end() ? std::nullopt : std::optional<double>(it->second);
}

double MacEnergies::at(int weight_bits, int act_bits, const std::string& needed_by) const {
  const auto pj = find(weight_bits, act_bits);
  if (!pj) fail_input("{}: no MAC energy for W{}A{} (weight, activation bits), which {} needs", source, weight_bits, act_bits, needed_by);
  return *pj;
}

void MacEnergies::check_fixed(const AcceleratorConfig& config) const {
  if (config.scalable) fail_input("{}: measured MAC energies describe fixed-precision arrays, not the precision-scalable '{}'", source, config.name);
}

std::vector<Energy> energy_layers(std::span<const isa::Instruction> code, std::span<const std::size_t> layer_first,
                                  const AcceleratorConfig& cfg, const MacEnergies* macs) {
  if (macs != nullptr) macs->check_fixed(cfg);
  using isa::Opcode;
  const double R = cfg.rows, C = cfg.cols;
  const double spad_bit = EnergyCosts::sram_bit(cfg.spad_kib), wbuf_bit = EnergyCosts::sram_bit(cfg.wbuf_kib),
               acc_bit = EnergyCosts::sram_bit(cfg.acc_kib), param_bit = EnergyCosts::sram_bit(cfg.param_kib);
  const double spad_line = cfg.spad_line_bits(), wbuf_line = cfg.wbuf_line_bits(), acc_line = C * cfg.acc_bits,
               param_line = C * packing::kParamEntryBytes * 8.0;
  const double post = EnergyCosts::add(32) + EnergyCosts::multiply(32, 32);
  int in_bits = 8, weight_bits = 8, out_bits = 8, res_bits = 8;
  std::vector<Energy> layers(layer_first.size());
  for (std::size_t l = 0; l < layer_first.size(); ++l) {
    const std::size_t end = l + 1 < layer_first.size() ? layer_first[l + 1] : code.size();
    Energy& e = layers[l];
    for (std::size_t pc = layer_first[l]; pc < end; ++pc) {
      const isa::Instruction& i = code[pc];
      switch (i.opcode) {
        case Opcode::Config:
          in_bits = static_cast<int>(i[isa::Config::in_bits]);
          weight_bits = static_cast<int>(i[isa::Config::weight_bits]);
          out_bits = static_cast<int>(i[isa::Config::out_bits]);
          res_bits = static_cast<int>(i[isa::Config::res_bits]);
          break;
        case Opcode::Load: {
          using F = isa::Load;
          const double from_dram = static_cast<double>(i[F::count_y] * i[F::count_x]);
          const double lines = static_cast<double>((i[F::pad_top] + i[F::count_y] + i[F::pad_bottom]) * (i[F::pad_left] + i[F::count_x] + i[F::pad_right]));
          switch (static_cast<isa::Buffer>(i[F::buffer])) {
            case isa::Buffer::Spad: e.dram_pj += from_dram * cfg.products(in_bits, weight_bits) * R * in_bits / 8.0 * EnergyCosts::kDramPerByte; e.onchip_pj += lines * spad_line * spad_bit; break;
            case isa::Buffer::Wbuf: e.dram_pj += from_dram * cfg.products(in_bits, weight_bits) * C * weight_bits / 8.0 * EnergyCosts::kDramPerByte; e.onchip_pj += lines * wbuf_line * wbuf_bit; break;
            case isa::Buffer::Acc: e.dram_pj += from_dram * C * 4.0 * EnergyCosts::kDramPerByte; e.onchip_pj += lines * acc_line * acc_bit; break;
            case isa::Buffer::Param: e.dram_pj += from_dram * param_line / 8.0 * EnergyCosts::kDramPerByte; e.onchip_pj += lines * param_line * param_bit; break;
          }
          break;
        }
        case Opcode::Preload: e.onchip_pj += R * wbuf_line * wbuf_bit; break;
        case Opcode::Matmul: {
          const double lines = static_cast<double>(i[isa::Matmul::count_y] * i[isa::Matmul::count_x]);
          const double mac = macs != nullptr ? macs->at(weight_bits, in_bits, fmt::format("layer {} (counting from 0)", l))
                             : cfg.scalable  ? EnergyCosts::scalable_pe_cycle(cfg.acc_bits)
                                             : EnergyCosts::multiply(in_bits, weight_bits) + EnergyCosts::add(cfg.acc_bits);
          e.mac_pj += lines * R * C * mac;
          e.onchip_pj += lines * (spad_line * spad_bit + 2.0 * acc_line * acc_bit);
          break;
        }
        case Opcode::Store: {
          const double lines = static_cast<double>(i[isa::Store::count_y] * i[isa::Store::count_x]);
          e.onchip_pj += lines * (acc_line * acc_bit + param_line * param_bit) + lines * C * post;
          e.dram_pj += lines * C * out_bits / 8.0 * EnergyCosts::kDramPerByte;
          break;
        }
        case Opcode::Vadd: {
          const double n = static_cast<double>(i[isa::Vadd::count]);
          e.dram_pj += n * C * (in_bits + res_bits + out_bits) / 8.0 * EnergyCosts::kDramPerByte;
          e.onchip_pj += n * (param_line * param_bit + C * (2.0 * EnergyCosts::multiply(32, 32) + EnergyCosts::add(64)));
          break;
        }
        case Opcode::Pool: {
          using F = isa::Pool;
          auto inside = [&](std::uint64_t out, std::uint64_t in) {
            double n = 0;
            for (std::uint64_t o = 0; o < out; ++o)
              for (std::uint64_t k = 0; k < i[F::kernel]; ++k) {
                const auto at = static_cast<std::int64_t>(o * i[F::stride] + k) - static_cast<std::int64_t>(i[F::pad]);
                n += at >= 0 && at < static_cast<std::int64_t>(in) ? 1 : 0;
              }
            return n;
          };
          const double taps = inside(i[F::out_h], i[F::in_h]) * inside(i[F::out_w], i[F::in_w]);
          const double outputs = static_cast<double>(i[F::out_h] * i[F::out_w]);
          e.dram_pj += (taps * in_bits + outputs * out_bits) * C / 8.0 * EnergyCosts::kDramPerByte;
          e.onchip_pj += taps * C * EnergyCosts::add(32) + (i[F::average] != 0 ? outputs * C * post : 0.0);
          break;
        }
        case Opcode::Halt: break;
      }
    }
  }
  return layers;
}

}  // namespace faq::sim
