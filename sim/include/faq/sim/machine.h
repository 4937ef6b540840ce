// The instruction-level, bit-accurate model of the accelerator: the machine state of docs/isa.md §2 and the
// effect of each instruction (§3), computed with the contract's arithmetic (faq/arithmetic.h). It is the
// fast exact reference between the compiler's programs and the RTL. Faults (an address outside a buffer or
// DRAM, a field value outside its range) raise InputError naming the instruction.
#pragma once

#include "faq/arithmetic.h"
#include "faq/config.h"
#include "faq/isa.h"
#include "faq/packing.h"

#include <cstdint>
#include <span>
#include <vector>

namespace faq::sim {

using packing::ParamEntry;

// The registers CONFIG sets.
struct Registers {
  int in_bits = 8;
  bool in_signed = true;
  int weight_bits = 8;
  int out_bits = 8;
  bool out_signed = true;
  int res_bits = 8;
  bool res_signed = true;
  std::uint64_t in_pixel_stride = 0;
  std::uint64_t out_pixel_stride = 0;
  int out_range_bits = 8;  // results saturate to this width; lanes are out_bits wide
  int products = 1;        // products per PE and cycle (AcceleratorConfig::products): SPAD and WBUF lanes per row / column
};

class Machine {
 public:
  Machine(const AcceleratorConfig& config, std::vector<std::uint8_t> dram);

  // Executes one instruction; returns false for HALT.
  bool execute(const isa::Instruction& instruction);
  // Executes until HALT; a program that runs past its end or beyond `max_instructions` is a fault.
  std::uint64_t run(std::span<const isa::Instruction> program, std::uint64_t max_instructions);

  const AcceleratorConfig& config() const { return config_; }
  std::vector<std::uint8_t>& dram() { return dram_; }
  const std::vector<std::uint8_t>& dram() const { return dram_; }
  const Registers& registers() const { return registers_; }
  std::int64_t spad(std::int64_t line, int lane) const { return spad_[index(line, lane, spad_stride())]; }
  std::int64_t acc(std::int64_t line, int lane) const { return acc_[index(line, lane, config_.cols)]; }

 private:
  static std::size_t index(std::int64_t line, int lane, int lanes) {
    return static_cast<std::size_t>(line * lanes + lane);
  }
  int spad_stride() const { return config_.max_products() * config_.rows; }
  int wbuf_stride() const { return config_.max_products() * config_.cols; }
  // A SPAD or WBUF line, or a weight bank, is read under the packing it was written with (or was never written).
  void check_packing(int written, const char* what, std::int64_t line) const;
  void config_registers(const isa::Instruction& i);
  void load(const isa::Instruction& i);
  void preload(const isa::Instruction& i);
  void matmul(const isa::Instruction& i);
  void store(const isa::Instruction& i);
  void vadd(const isa::Instruction& i);
  void pool(const isa::Instruction& i);

  // DRAM lines of `lanes` values of `bits` (2, 4, 8, 16) packed little-endian.
  void read_line(std::uint64_t address, int lanes, int bits, bool is_signed, std::int64_t* out) const;
  void write_line(std::uint64_t address, int lanes, int bits, const std::int64_t* values);
  void check_dram(std::uint64_t address, std::uint64_t bytes) const;
  void check_line(std::int64_t line, std::int64_t lines, const char* buffer) const;
  std::int64_t post(std::int64_t value, const ParamEntry& e, arith::Range out) const;
  [[noreturn]] void fault(const std::string& problem) const;

  AcceleratorConfig config_;
  std::vector<std::uint8_t> dram_;
  Registers registers_;
  std::vector<std::int64_t> spad_, wbuf_, acc_;
  std::vector<ParamEntry> param_;
  std::vector<std::int64_t> banks_[2];
  // products (Registers::products) under which each SPAD / WBUF line and bank was written; 0: never written (zero)
  std::vector<std::uint8_t> spad_products_, wbuf_products_;
  int bank_products_[2] = {0, 0};
  std::uint64_t executed_ = 0;          // instructions executed (for fault messages)
  isa::Opcode current_ = isa::Opcode::Halt;
};

}  // namespace faq::sim
