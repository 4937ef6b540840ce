// The co-simulation harness around a Verilated faq_accel (any configuration): it supplies clock, reset,
// start, the instruction port (1-cycle latency) and a byte-addressed memory with a read channel (fixed latency,
// one request per cycle) and a write channel (byte strobes), and records the cycle of every CONFIG issue.
#pragma once

#include "faq/error.h"
#include "faq/isa.h"

#include <fmt/format.h>
#include <verilated_fst_c.h>

#include <array>
#include <cstdint>
#include <deque>
#include <type_traits>
#include <vector>

namespace faq::rtl {

template <typename T>
void put_bytes(T& port, const std::uint8_t* bytes, int n) {
  if constexpr (std::is_integral_v<T>) {
    std::uint64_t v = 0;
    for (int i = 0; i < n; ++i) v |= static_cast<std::uint64_t>(bytes[i]) << (8 * i);
    port = static_cast<T>(v);
  } else {
    for (int i = 0; i < n; i += 4) {
      std::uint32_t word = 0;
      for (int k = 0; k < 4 && i + k < n; ++k) word |= static_cast<std::uint32_t>(bytes[i + k]) << (8 * k);
      port[static_cast<std::size_t>(i / 4)] = word;
    }
  }
}

template <typename T>
std::uint8_t byte_of(const T& port, int i) {
  if constexpr (std::is_integral_v<T>) {
    return static_cast<std::uint8_t>(static_cast<std::uint64_t>(port) >> (8 * i));
  } else {
    return static_cast<std::uint8_t>(port[static_cast<std::size_t>(i / 4)] >> (8 * (i % 4)));
  }
}

struct Run {
  std::uint64_t cycles = 0;
  std::vector<std::uint64_t> config_cycles;  // cycle at which each CONFIG issued
  std::uint64_t lines = 0, read_beats = 0, write_beats = 0, stall = 0;  // the accelerator's counters at done
  std::array<std::uint32_t, 4> unit_stall{};   // LD, PL, EX, ST
  std::array<std::uint32_t, 8> buffer{};       // SPAD, WBUF, ACC, PARAM writes, then reads
  bool done = false, error = false;
};

// Waveforms: a trace file (Verilator's FST writer) dumped for cycles [from, to).
struct Trace {
  VerilatedFstC* file = nullptr;
  std::uint64_t from = 0, to = ~std::uint64_t{0};
};

template <typename Model>
Run simulate(Model& m, const std::vector<faq::isa::Instruction>& code, std::vector<std::uint8_t>& dram, int port_bytes,
             int latency, std::uint64_t max_cycles, Trace trace = {}, int imem_latency = 1) {
  std::vector<std::uint8_t> imem;
  for (const auto& i : code) {
    const auto w = faq::isa::encode(i);
    imem.insert(imem.end(), w.begin(), w.end());
  }
  struct Read {
    std::uint64_t due;
    std::uint32_t addr;
  };
  std::deque<Read> reads;
  Run run;
  auto tick = [&] {
    m.clk = 0;
    m.eval();
    m.clk = 1;
    m.eval();
  };
  m.rst = 1;
  m.start = 0;
  m.rd_ready = 1;
  m.wr_ready = 1;
  m.imem_valid = 0;
  m.rd_valid = 0;
  tick();
  m.rst = 0;
  m.start = 1;
  m.prog_addr = 0;
  tick();
  m.start = 0;
  std::deque<Read> fetches;  // instruction requests, answered in order imem_latency cycles later
  std::uint32_t configs = 0;
  std::vector<std::uint8_t> line(static_cast<std::size_t>(port_bytes));
  for (std::uint64_t cycle = 0; cycle < max_cycles; ++cycle) {
    // inputs of this cycle: the instruction requested last cycle, a read response that is due
    m.imem_valid = !fetches.empty() && fetches.front().due <= cycle;
    if (m.imem_valid) {
      const std::uint32_t imem_addr = fetches.front().addr;
      std::uint8_t word[16] = {};
      for (int i = 0; i < 16; ++i)
        if (imem_addr + static_cast<std::uint32_t>(i) < imem.size()) word[i] = imem[imem_addr + static_cast<std::uint32_t>(i)];
      put_bytes(m.imem_data, word, 16);
      fetches.pop_front();
    }
    m.rd_valid = !reads.empty() && reads.front().due <= cycle;
    if (m.rd_valid) {
      for (int i = 0; i < port_bytes; ++i) {
        const std::uint64_t a = std::uint64_t{reads.front().addr} + static_cast<std::uint64_t>(i);
        line[static_cast<std::size_t>(i)] = a < dram.size() ? dram[a] : 0;
      }
      put_bytes(m.rd_data, line.data(), port_bytes);
      reads.pop_front();
    }
    m.clk = 0;
    m.eval();
    const bool dump = trace.file != nullptr && cycle >= trace.from && cycle < trace.to;
    if (dump) trace.file->dump(static_cast<vluint64_t>(2 * cycle));
    // outputs of this cycle
    if (m.imem_req) fetches.push_back({cycle + static_cast<std::uint64_t>(imem_latency), m.imem_addr});
    if (m.rd_req) reads.push_back({cycle + static_cast<std::uint64_t>(latency), m.rd_addr});
    if (m.wr_req) {
      for (int i = 0; i < port_bytes; ++i)
        if ((static_cast<std::uint64_t>(m.wr_strb) >> i) & 1U) {
          const std::uint64_t a = std::uint64_t{m.wr_addr} + static_cast<std::uint64_t>(i);
          if (a >= dram.size()) throw faq::InputError(fmt::format("the accelerator wrote outside DRAM at {:#x}", a));
          dram[a] = byte_of(m.wr_data, i);
        }
    }
    m.clk = 1;
    m.eval();
    if (dump) trace.file->dump(static_cast<vluint64_t>(2 * cycle + 1));
    if (m.perf_configs != configs) {
      configs = m.perf_configs;
      run.config_cycles.push_back(cycle);
    }
    if (m.done) {
      run.lines = m.perf_lines;
      run.read_beats = m.perf_mem & 0xffffffffULL;
      run.write_beats = m.perf_mem >> 32;
      run.stall = m.perf_stall;
      for (std::size_t u = 0; u < 4; ++u) run.unit_stall[u] = m.perf_unit_stall[u];
      for (std::size_t k = 0; k < 8; ++k) run.buffer[k] = m.perf_buf[k];
      run.done = true;
      run.error = m.error;
      run.cycles = cycle + 1;
      return run;
    }
  }
  run.cycles = max_cycles;
  return run;
}


}  // namespace faq::rtl
