// Instruction semantics of docs/isa.md §3, one function per opcode. Values are held unpacked (one int64 per
// lane) in the on-chip buffers; packing happens only at the DRAM boundary (read_line / write_line).
#include "faq/sim/machine.h"

#include "faq/error.h"
#include "faq/packing.h"

#include <fmt/format.h>

#include <algorithm>

namespace faq::sim {

namespace {

using isa::Opcode;

bool valid_bits(std::uint64_t bits) { return bits == 2 || bits == 4 || bits == 8 || bits == 16; }

}  // namespace

Machine::Machine(const AcceleratorConfig& config, std::vector<std::uint8_t> dram)
    : config_(config), dram_(std::move(dram)) {
  config_.validate("machine");
  spad_.assign(static_cast<std::size_t>(config_.spad_lines() * spad_stride()), 0);
  wbuf_.assign(static_cast<std::size_t>(config_.wbuf_lines() * wbuf_stride()), 0);
  spad_products_.assign(static_cast<std::size_t>(config_.spad_lines()), 0);
  wbuf_products_.assign(static_cast<std::size_t>(config_.wbuf_lines()), 0);
  acc_.assign(static_cast<std::size_t>(config_.acc_lines() * config_.cols), 0);
  param_.assign(static_cast<std::size_t>(config_.param_lines() * config_.cols), {});
  for (auto& bank : banks_) bank.assign(static_cast<std::size_t>(config_.max_products() * config_.rows * config_.cols), 0);
}

void Machine::check_packing(int written, const char* what, std::int64_t line) const {
  if (written != 0 && written != registers_.products)
    fault(fmt::format("{} {} was written with {} products per PE, read with {} (a CONFIG changed the packing)", what, line, written,
                      registers_.products));
}

void Machine::fault(const std::string& problem) const {
  fail_input("instruction {} ({}): {}", executed_, isa::spec_of(current_).mnemonic, problem);
}

void Machine::check_dram(std::uint64_t address, std::uint64_t bytes) const {
  if (address > dram_.size() || bytes > dram_.size() - address)
    fault(fmt::format("DRAM access [{:#x}, {:#x}) outside the {}-byte memory", address, address + bytes, dram_.size()));
  if (address + bytes > config_.dram_bytes())
    fault(fmt::format("DRAM access [{:#x}, {:#x}) beyond the accelerator's {}-bit addresses (dram_addr_bits)", address,
                      address + bytes, config_.dram_addr_bits));
}

void Machine::check_line(std::int64_t line, std::int64_t lines, const char* buffer) const {
  if (line < 0 || line >= lines) fault(fmt::format("{} line {} outside the buffer ({} lines)", buffer, line, lines));
}

void Machine::read_line(std::uint64_t address, int lanes, int bits, bool is_signed, std::int64_t* out) const {
  check_dram(address, static_cast<std::uint64_t>(lanes * bits / 8));
  packing::read_lanes(dram_.data() + address, out, lanes, bits, is_signed);
}

void Machine::write_line(std::uint64_t address, int lanes, int bits, const std::int64_t* values) {
  check_dram(address, static_cast<std::uint64_t>(lanes * bits / 8));
  packing::write_lanes(dram_.data() + address, values, lanes, bits);
}

std::int64_t Machine::post(std::int64_t value, const ParamEntry& e, arith::Range out) const {
  const std::int64_t biased = arith::wrap(value + e.a, 32);
  return arith::saturate(arith::rounding_shift_right(biased * e.b, e.shift), out);
}

bool Machine::execute(const isa::Instruction& i) {
  current_ = i.opcode;
  switch (i.opcode) {
    case Opcode::Config: config_registers(i); break;
    case Opcode::Load: load(i); break;
    case Opcode::Preload: preload(i); break;
    case Opcode::Matmul: matmul(i); break;
    case Opcode::Store: store(i); break;
    case Opcode::Vadd: vadd(i); break;
    case Opcode::Pool: pool(i); break;
    case Opcode::Halt: ++executed_; return false;
  }
  ++executed_;
  return true;
}

std::uint64_t Machine::run(std::span<const isa::Instruction> program, std::uint64_t max_instructions) {
  for (std::size_t pc = 0;; ++pc) {
    if (pc >= program.size()) fail_input("program ended after {} instructions without HALT", program.size());
    if (executed_ >= max_instructions) fail_input("no HALT within {} instructions", max_instructions);
    if (!execute(program[pc])) return executed_;
  }
}

void Machine::config_registers(const isa::Instruction& i) {
  using F = isa::Config;
  for (int f : {F::in_bits, F::weight_bits, F::out_bits, F::res_bits})
    if (!valid_bits(i[f])) fault(fmt::format("{} = {} is not 2, 4, 8 or 16", isa::spec_of(Opcode::Config).fields[static_cast<std::size_t>(f)].name, i[f]));
  if (static_cast<int>(i[F::weight_bits]) > config_.weight_bits)
    fault(fmt::format("weight_bits {} exceeds the array's weight_bits {}", i[F::weight_bits], config_.weight_bits));
  if (i[F::out_range_bits] < 2 || i[F::out_range_bits] > i[F::out_bits])
    fault(fmt::format("out_range_bits {} is outside [2, out_bits = {}]", i[F::out_range_bits], i[F::out_bits]));
  registers_ = {static_cast<int>(i[F::in_bits]),  i[F::in_signed] != 0, static_cast<int>(i[F::weight_bits]),
                static_cast<int>(i[F::out_bits]), i[F::out_signed] != 0, static_cast<int>(i[F::res_bits]),
                i[F::res_signed] != 0,            i[F::in_pixel_stride], i[F::out_pixel_stride],
                static_cast<int>(i[F::out_range_bits]), config_.products(static_cast<int>(i[F::in_bits]), static_cast<int>(i[F::weight_bits]))};
}

void Machine::load(const isa::Instruction& i) {
  using F = isa::Load;
  const auto buffer = static_cast<isa::Buffer>(i[F::buffer]);
  const int rows = registers_.products * config_.rows, cols = config_.cols;
  int lanes = cols, stride = cols;
  std::vector<std::uint8_t>* written_with = nullptr;  // the products of each line of the target (SPAD, WBUF)
  std::uint64_t pitch = 0;
  std::int64_t lines = 0;
  std::vector<std::int64_t>* target = nullptr;
  const char* name = "";
  switch (buffer) {
    case isa::Buffer::Spad:
      lanes = rows;
      stride = spad_stride();
      written_with = &spad_products_;
      if (registers_.in_bits > config_.act_bits)
        fault(fmt::format("in_bits {} exceeds the array's act_bits {}", registers_.in_bits, config_.act_bits));
      if ((rows * registers_.in_bits) % 8 != 0) fault(fmt::format("{} lanes of {} bits are not whole bytes", rows, registers_.in_bits));
      pitch = registers_.in_pixel_stride;
      lines = config_.spad_lines();
      target = &spad_;
      name = "SPAD";
      break;
    case isa::Buffer::Wbuf:
      lanes = registers_.products * cols;
      stride = wbuf_stride();
      written_with = &wbuf_products_;
      if ((lanes * registers_.weight_bits) % 8 != 0) fault(fmt::format("{} lanes of {} bits are not whole bytes", lanes, registers_.weight_bits));
      pitch = static_cast<std::uint64_t>(lanes * registers_.weight_bits / 8);
      lines = config_.wbuf_lines();
      target = &wbuf_;
      name = "WBUF";
      break;
    case isa::Buffer::Acc:
      pitch = static_cast<std::uint64_t>(4 * cols);
      lines = config_.acc_lines();
      target = &acc_;
      name = "ACC";
      break;
    case isa::Buffer::Param:
      pitch = static_cast<std::uint64_t>(packing::kParamEntryBytes * cols);
      lines = config_.param_lines();
      name = "PARAM";
      break;
  }
  if (buffer == isa::Buffer::Param && (i[F::pad_top] | i[F::pad_bottom] | i[F::pad_left] | i[F::pad_right]) != 0)
    fault("a LOAD into PARAM cannot be padded (pad_top, pad_bottom, pad_left and pad_right must be 0)");
  const auto pad_top = static_cast<std::int64_t>(i[F::pad_top]), pad_left = static_cast<std::int64_t>(i[F::pad_left]);
  const auto count_y = static_cast<std::int64_t>(i[F::count_y]), count_x = static_cast<std::int64_t>(i[F::count_x]);
  const std::int64_t height = pad_top + count_y + static_cast<std::int64_t>(i[F::pad_bottom]);
  const std::int64_t width = pad_left + count_x + static_cast<std::int64_t>(i[F::pad_right]);
  std::vector<std::int64_t> values(static_cast<std::size_t>(lanes));
  for (std::int64_t y = 0; y < height; ++y) {
    for (std::int64_t x = 0; x < width; ++x) {
      const std::int64_t line = static_cast<std::int64_t>(i[F::sram_addr]) + y * static_cast<std::int64_t>(i[F::sram_stride_y]) + x;
      check_line(line, lines, name);
      const std::int64_t sy = y - pad_top, sx = x - pad_left;
      const bool inside = sy >= 0 && sy < count_y && sx >= 0 && sx < count_x;
      const std::uint64_t address = i[F::dram_addr] + static_cast<std::uint64_t>(sy) * i[F::dram_stride_y] + static_cast<std::uint64_t>(sx) * pitch;
      if (buffer == isa::Buffer::Param) {
        for (int lane = 0; lane < lanes; ++lane) {
          ParamEntry e;
          if (inside) {
            const std::uint64_t at = address + static_cast<std::uint64_t>(packing::kParamEntryBytes * lane);
            check_dram(at, packing::kParamEntryBytes);
            e = packing::read_param_entry(dram_.data() + at);
            if (e.shift > arith::kMaxShift) fault(fmt::format("PARAM entry shift {} above 63", e.shift));
          }
          param_[index(line, lane, cols)] = e;
        }
        continue;
      }
      if (inside) {
        if (buffer == isa::Buffer::Spad) read_line(address, lanes, registers_.in_bits, registers_.in_signed, values.data());
        else if (buffer == isa::Buffer::Wbuf) read_line(address, lanes, registers_.weight_bits, true, values.data());
        else {
          read_line(address, lanes, 32, true, values.data());
          for (auto& v : values) v = arith::wrap(v, config_.acc_bits);
        }
      } else {
        std::fill(values.begin(), values.end(), 0);
      }
      std::copy(values.begin(), values.end(), target->begin() + static_cast<std::ptrdiff_t>(index(line, 0, stride)));
      if (written_with) (*written_with)[static_cast<std::size_t>(line)] = static_cast<std::uint8_t>(registers_.products);
    }
  }
}

void Machine::preload(const isa::Instruction& i) {
  const auto base = static_cast<std::int64_t>(i[isa::Preload::wbuf_addr]);
  auto& bank = banks_[i[isa::Preload::bank]];
  const int k = registers_.products, cols = config_.cols;
  for (int r = 0; r < config_.rows; ++r) {
    check_line(base + r, config_.wbuf_lines(), "WBUF");
    check_packing(wbuf_products_[static_cast<std::size_t>(base + r)], "WBUF line", base + r);
    for (int c = 0; c < cols; ++c)
      for (int j = 0; j < k; ++j) bank[index(k * r + j, c, cols)] = wbuf_[index(base + r, c * k + j, wbuf_stride())];
  }
  bank_products_[i[isa::Preload::bank]] = k;
}

void Machine::matmul(const isa::Instruction& i) {
  using F = isa::Matmul;
  const auto& bank = banks_[i[F::bank]];
  check_packing(bank_products_[i[F::bank]], "weight bank", static_cast<std::int64_t>(i[F::bank]));
  const int rows = registers_.products * config_.rows, cols = config_.cols;
  std::vector<std::int64_t> sum(static_cast<std::size_t>(cols));
  for (std::int64_t y = 0; y < static_cast<std::int64_t>(i[F::count_y]); ++y) {
    for (std::int64_t x = 0; x < static_cast<std::int64_t>(i[F::count_x]); ++x) {
      const std::int64_t a_line = static_cast<std::int64_t>(i[F::spad_addr]) + y * static_cast<std::int64_t>(i[F::spad_stride_y]) +
                                  x * static_cast<std::int64_t>(i[F::spad_stride_x]);
      const std::int64_t t = static_cast<std::int64_t>(i[F::acc_addr]) + y * static_cast<std::int64_t>(i[F::acc_stride_y]) + x;
      check_line(a_line, config_.spad_lines(), "SPAD");
      check_line(t, config_.acc_lines(), "ACC");
      check_packing(spad_products_[static_cast<std::size_t>(a_line)], "SPAD line", a_line);
      std::fill(sum.begin(), sum.end(), 0);
      for (int r = 0; r < rows; ++r) {
        const std::int64_t a = spad_[index(a_line, r, spad_stride())];
        if (a == 0) continue;
        for (int c = 0; c < cols; ++c) sum[static_cast<std::size_t>(c)] += a * bank[index(r, c, cols)];
      }
      for (int c = 0; c < cols; ++c) {
        std::int64_t& cell = acc_[index(t, c, cols)];
        cell = arith::wrap((i[F::accumulate] != 0 ? cell : 0) + sum[static_cast<std::size_t>(c)], config_.acc_bits);
      }
    }
  }
}

void Machine::store(const isa::Instruction& i) {
  using F = isa::Store;
  const int cols = config_.cols;
  if ((cols * registers_.out_bits) % 8 != 0) fault(fmt::format("{} lanes of {} bits are not whole bytes", cols, registers_.out_bits));
  const auto param_line = static_cast<std::int64_t>(i[F::param_addr]);
  check_line(param_line, config_.param_lines(), "PARAM");
  const auto range = arith::activation_range(registers_.out_range_bits, registers_.out_signed);
  std::vector<std::int64_t> out(static_cast<std::size_t>(cols));
  for (std::int64_t y = 0; y < static_cast<std::int64_t>(i[F::count_y]); ++y) {
    for (std::int64_t x = 0; x < static_cast<std::int64_t>(i[F::count_x]); ++x) {
      const std::int64_t t = static_cast<std::int64_t>(i[F::acc_addr]) + y * static_cast<std::int64_t>(i[F::acc_stride_y]) + x;
      check_line(t, config_.acc_lines(), "ACC");
      for (int c = 0; c < cols; ++c)
        out[static_cast<std::size_t>(c)] = post(acc_[index(t, c, cols)], param_[index(param_line, c, cols)], range);
      write_line(i[F::dram_addr] + static_cast<std::uint64_t>(y) * i[F::dram_stride_y] + static_cast<std::uint64_t>(x) * registers_.out_pixel_stride,
                 cols, registers_.out_bits, out.data());
    }
  }
}

void Machine::vadd(const isa::Instruction& i) {
  using F = isa::Vadd;
  const int cols = config_.cols;
  const Registers& r = registers_;
  for (int bits : {r.in_bits, r.res_bits, r.out_bits})
    if ((cols * bits) % 8 != 0) fault(fmt::format("{} lanes of {} bits are not whole bytes", cols, bits));
  const auto param_line = static_cast<std::int64_t>(i[F::param_addr]);
  check_line(param_line, config_.param_lines(), "PARAM");
  const auto range = arith::activation_range(r.out_range_bits, r.out_signed);
  std::vector<std::int64_t> a(static_cast<std::size_t>(cols)), b(a.size()), out(a.size());
  for (std::uint64_t n = 0; n < i[F::count]; ++n) {
    read_line(i[F::a_addr] + n * static_cast<std::uint64_t>(cols * r.in_bits / 8), cols, r.in_bits, r.in_signed, a.data());
    read_line(i[F::b_addr] + n * static_cast<std::uint64_t>(cols * r.res_bits / 8), cols, r.res_bits, r.res_signed, b.data());
    for (std::size_t c = 0; c < a.size(); ++c) {
      const ParamEntry& e = param_[index(param_line, static_cast<int>(c), cols)];
      out[c] = arith::saturate(arith::rounding_shift_right(a[c] * e.a + b[c] * e.b, e.shift), range);
    }
    write_line(i[F::out_addr] + n * static_cast<std::uint64_t>(cols * r.out_bits / 8), cols, r.out_bits, out.data());
  }
}

void Machine::pool(const isa::Instruction& i) {
  using F = isa::Pool;
  if (!config_.pool_unit) fault("POOL on a configuration without the POOL unit (field 'pool_unit')");
  const int cols = config_.cols;
  const Registers& r = registers_;
  const bool average = i[F::average] != 0;
  if (!average && (r.out_bits != r.in_bits || r.out_signed != r.in_signed))
    fault("max pooling needs the output format (out_bits, out_signed) equal to the input's");
  if (i[F::kernel] < 1 || i[F::stride] < 1 || i[F::pad] >= i[F::kernel]) fault("kernel and stride must be >= 1 and pad < kernel");
  const auto param_line = static_cast<std::int64_t>(i[F::param_addr]);
  if (average) check_line(param_line, config_.param_lines(), "PARAM");
  const auto range = arith::activation_range(r.out_range_bits, r.out_signed);
  const auto in_h = static_cast<std::int64_t>(i[F::in_h]), in_w = static_cast<std::int64_t>(i[F::in_w]);
  const auto k = static_cast<std::int64_t>(i[F::kernel]), s = static_cast<std::int64_t>(i[F::stride]), p = static_cast<std::int64_t>(i[F::pad]);
  std::vector<std::int64_t> line(static_cast<std::size_t>(cols)), acc(line.size());
  for (std::int64_t oy = 0; oy < static_cast<std::int64_t>(i[F::out_h]); ++oy) {
    for (std::int64_t ox = 0; ox < static_cast<std::int64_t>(i[F::out_w]); ++ox) {
      bool any = false;
      std::fill(acc.begin(), acc.end(), 0);
      for (std::int64_t ky = 0; ky < k; ++ky) {
        const std::int64_t iy = oy * s - p + ky;
        if (iy < 0 || iy >= in_h) continue;
        for (std::int64_t kx = 0; kx < k; ++kx) {
          const std::int64_t ix = ox * s - p + kx;
          if (ix < 0 || ix >= in_w) continue;
          read_line(i[F::src_addr] + static_cast<std::uint64_t>(iy * in_w + ix) * r.in_pixel_stride, cols, r.in_bits, r.in_signed, line.data());
          for (std::size_t c = 0; c < line.size(); ++c) acc[c] = average ? acc[c] + line[c] : (any ? std::max(acc[c], line[c]) : line[c]);
          any = true;
        }
      }
      if (!any) fault(fmt::format("output ({}, {}) has no input inside its window", oy, ox));
      if (average)
        for (std::size_t c = 0; c < acc.size(); ++c) acc[c] = post(acc[c], param_[index(param_line, static_cast<int>(c), cols)], range);
      write_line(i[F::dst_addr] + static_cast<std::uint64_t>(oy * static_cast<std::int64_t>(i[F::out_w]) + ox) * r.out_pixel_stride, cols,
                 r.out_bits, acc.data());
    }
  }
}

}  // namespace faq::sim
