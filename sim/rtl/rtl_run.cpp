// faq-rtl-<preset> MODEL.faq [--mem-latency N] [--trace FILE.vcd]: co-simulation of the generated accelerator
// (Verilated faq_accel of that preset) on a compiled model. The harness supplies only clock, reset, start/done,
// an instruction port (the program) and a memory with read and write channels (the DRAM image with the input
// placed); the accelerator runs the program by itself. Every layer's output is then compared with the model's
// test vectors, and the hardware's per-layer cycles (between CONFIG issues) are printed next to the cycle model's.
// Verdict line as faqc run; exit 0 bit-exact, 1 mismatch or hang, 2 bad input.
#include FAQ_VHEADER

#include "passes.h"

#include "faq/error.h"
#include "faq/faq_file.h"
#include "faq/reference.h"
#include "faq/sim/cycle_model.h"

#include <CLI/CLI.hpp>
#include <fmt/format.h>
#include <verilated.h>

#include <chrono>
#include <cmath>
#include <deque>
#include <type_traits>

namespace {

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
  bool done = false, error = false;
};

Run simulate(FAQ_VMODEL& m, const std::vector<faq::isa::Instruction>& code, std::vector<std::uint8_t>& dram, int port_bytes,
             int latency, std::uint64_t max_cycles) {
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
  bool imem_pending = false;
  std::uint32_t imem_addr = 0;
  std::uint32_t configs = 0;
  std::vector<std::uint8_t> line(static_cast<std::size_t>(port_bytes));
  for (std::uint64_t cycle = 0; cycle < max_cycles; ++cycle) {
    // inputs of this cycle: the instruction requested last cycle, a read response that is due
    m.imem_valid = imem_pending;
    if (imem_pending) {
      std::uint8_t word[16] = {};
      for (int i = 0; i < 16; ++i)
        if (imem_addr + static_cast<std::uint32_t>(i) < imem.size()) word[i] = imem[imem_addr + static_cast<std::uint32_t>(i)];
      put_bytes(m.imem_data, word, 16);
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
    // outputs of this cycle
    imem_pending = m.imem_req;
    imem_addr = m.imem_addr;
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
    if (m.perf_configs != configs) {
      configs = m.perf_configs;
      run.config_cycles.push_back(cycle);
    }
    if (m.done) {
      run.done = true;
      run.error = m.error;
      run.cycles = cycle + 1;
      return run;
    }
  }
  run.cycles = max_cycles;
  return run;
}

}  // namespace

int main(int argc, char** argv) {
  Verilated::commandArgs(argc, argv);
  CLI::App app{fmt::format("faq-rtl-{}: run a model on the Verilated accelerator ({}) and compare every layer", FAQ_PRESET, FAQ_PRESET)};
  std::string model_path;
  int latency = faq::sim::TimingOptions{}.mem_latency;
  app.add_option("model", model_path, "the .faq model (with test vectors)")->required();
  app.add_option("--mem-latency", latency, "memory read latency in cycles")->capture_default_str()->check(CLI::Range(1, 10000));
  try {
    app.parse(argc, argv);
  } catch (const CLI::Success& e) {
    return app.exit(e);
  } catch (const CLI::ParseError& e) {
    fmt::print(stderr, "faq-rtl-{}: {}\n", FAQ_PRESET, e.what());
    return faq::kExitBadInput;
  }
  try {
    const faq::Model model = faq::read_faq(model_path);
    if (model.test_vectors.empty()) faq::fail_input("{}: the model has no test vectors to compare with", model_path);
    const auto config = faq::AcceleratorConfig::load(FAQ_PRESET);
    const auto program = faq::compiler::compile(model, config);
    const faq::sim::TimingOptions timing{.mem_latency = latency};
    const auto expected_layers = faq::sim::time_layers(program.code, program.layer_first, config, timing);
    std::uint64_t model_cycles = 0;
    for (const auto& l : expected_layers) model_cycles += l.cycles;
    const auto start = std::chrono::steady_clock::now();
    std::uint64_t simulated = 0;
    for (std::size_t t = 0; t < model.test_vectors.size(); ++t) {
      auto expected = model.test_vectors[t].outputs;
      expected[0] = faq::compiler::stored_input(program, expected[0]);
      std::vector<std::uint8_t> dram = program.dram;
      faq::compiler::place_input(program, model.test_vectors[t].outputs[0], dram);
      FAQ_VMODEL m;
      const Run run = simulate(m, program.code, dram, config.mem_port_bits / 8, latency, 4 * model_cycles + 100000);
      simulated += run.cycles;
      if (!run.done) {
        fmt::print("bit-exact: NO, test vector {}: no done within {} cycles (the cycle model expects {})\n", t, run.cycles, model_cycles);
        return faq::kExitInternal;
      }
      if (run.error) {
        fmt::print("bit-exact: NO, test vector {}: the accelerator stopped on an unknown opcode\n", t);
        return faq::kExitInternal;
      }
      std::vector<faq::IntTensor> actual;
      for (std::size_t l = 0; l < model.layers.size(); ++l) actual.push_back(faq::compiler::read_tensor(program, l, dram));
      const std::string mismatch = faq::first_mismatch(model, expected, actual);
      if (!mismatch.empty()) {
        fmt::print("bit-exact: NO, test vector {}: {}\n", t, mismatch);
        return faq::kExitInternal;
      }
      if (t == 0) {
        // per layer: cycles between CONFIG issues (the last layer ends at HALT), next to the cycle model
        fmt::print("{:<24} {:>12} {:>12} {:>8}\n", "layer", "RTL cycles", "model", "diff");
        std::size_t k = 0;
        for (std::size_t l = 0; l < model.layers.size(); ++l) {
          if (program.layer_first[l] == (l + 1 < model.layers.size() ? program.layer_first[l + 1] : program.code.size() - 1)) continue;
          const std::uint64_t begin = run.config_cycles[k];
          const std::uint64_t end = k + 1 < run.config_cycles.size() ? run.config_cycles[k + 1] : run.cycles;
          const auto rtl = static_cast<double>(end - begin), mod = static_cast<double>(expected_layers[l].cycles);
          fmt::print("{:<24} {:>12} {:>12} {:>+7.1f}%\n", model.layers[l].name, end - begin, expected_layers[l].cycles, 100.0 * (rtl - mod) / mod);
          ++k;
        }
      }
    }
    const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    fmt::print("bit-exact: {}/{} layers, {} test vectors, {} on RTL {} ({} cycles per inference, cycle model {}; {:.0f} cycles/s, {:.0f} MAC/s simulated)\n",
               model.layers.size(), model.layers.size(), model.test_vectors.size(), model_path, FAQ_PRESET,
               simulated / model.test_vectors.size(), model_cycles, static_cast<double>(simulated) / seconds,
               static_cast<double>(model.mac_count() * static_cast<std::int64_t>(model.test_vectors.size())) / seconds);
    return 0;
  } catch (const faq::InputError& e) {
    fmt::print(stderr, "faq-rtl-{}: {}\n", FAQ_PRESET, e.what());
    return faq::kExitBadInput;
  } catch (const std::exception& e) {
    fmt::print(stderr, "faq-rtl-{}: internal error: {}\n", FAQ_PRESET, e.what());
    return faq::kExitInternal;
  }
}
