// faq-gate-check: runs constrained-random layers (tests/support/random_model.h) on Icarus simulations of the
// accelerator built from sim/gate/tb_faq_accel.v — the behavioural RTL and the synthesized gate-level netlist
// (Yosys, mapped to the standard-cell library, simulated with the library's cell models) — and requires, for
// every layer, that each simulation's outputs equal the reference interpreter element for element, and that the
// netlist ends in the same cycle with the same DRAM contents, byte for byte, as the RTL.
//   faq-gate-check --config CONFIG --rtl RTL.vvp --gate GATE.vvp [--layers N] [--seed S] [--work DIR] [--max-layer-cycles N]
// Exit 0: all equal; 1: a difference (named: layer, element or byte); 2: bad arguments.
#include "passes.h"
#include "random_case.h"

#include "faq/error.h"
#include "faq/isa.h"
#include "faq/reference.h"
#include "faq/sim/cycle_model.h"

#include <CLI/CLI.hpp>
#include <fmt/format.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <sstream>

namespace {

using namespace faq;
namespace fs = std::filesystem;

struct SimResult {
  std::uint64_t cycles = 0;
  bool error = false;
  std::vector<std::uint8_t> dram;
};

void write_hex(const fs::path& path, const std::vector<isa::Instruction>& code) {
  std::ofstream f(path);
  for (const auto& ins : code) {
    const auto word = isa::encode(ins);
    for (int i = 15; i >= 0; --i) f << fmt::format("{:02x}", word[static_cast<std::size_t>(i)]);
    f << '\n';
  }
}

void write_hex(const fs::path& path, const std::vector<std::uint8_t>& bytes) {
  std::ofstream f(path);
  for (auto b : bytes) f << fmt::format("{:02x}\n", b);
}

std::string run_command(const std::string& command) {
  std::string text;
  FILE* pipe = popen(command.c_str(), "r");
  if (pipe == nullptr) throw std::runtime_error("cannot run " + command);
  char buffer[4096];
  while (std::fgets(buffer, sizeof buffer, pipe) != nullptr) text += buffer;
  if (pclose(pipe) != 0) throw std::runtime_error(fmt::format("{} failed: {}", command, text));
  return text;
}

SimResult simulate(const std::string& vvp, const fs::path& dir, const std::string& tag, std::size_t imem_words, std::size_t dram_bytes,
                   std::uint64_t max_cycles) {
  const fs::path out = dir / (tag + "_out.hex");
  const std::string text = run_command(fmt::format("vvp -n {} +imem={} +dram={} +out={} +max={} +imem_words={} +dram_bytes={} 2>&1", vvp,
                                                   (dir / "imem.hex").string(), (dir / "dram.hex").string(), out.string(), max_cycles,
                                                   imem_words, dram_bytes));
  SimResult r;
  const auto at = text.find("cycles ");
  if (at == std::string::npos) throw std::runtime_error(fmt::format("{} ({}) did not finish: {}", tag, vvp, text));
  unsigned long long cycles = 0;
  int error = 0;
  std::sscanf(text.c_str() + at, "cycles %llu error %d", &cycles, &error);
  r.cycles = cycles;
  r.error = error != 0;
  std::ifstream f(out);
  std::string word;
  while (r.dram.size() < dram_bytes && f >> word) {
    if (word.starts_with("//")) {  // $writememh address comments
      std::getline(f, word);
      continue;
    }
    if (word.find_first_not_of("0123456789abcdefABCDEF") != std::string::npos)
      throw std::runtime_error(fmt::format("{}: DRAM byte {} is '{}' (unknown value) at the end of the run", tag, r.dram.size(), word));
    r.dram.push_back(static_cast<std::uint8_t>(std::stoul(word, nullptr, 16)));
  }
  if (r.dram.size() < dram_bytes) throw std::runtime_error(fmt::format("{}: {} holds {} of {} DRAM bytes", tag, out.string(), r.dram.size(), dram_bytes));
  return r;
}

int run(const std::string& config_path, const std::string& rtl, const std::string& gate, int layers, std::uint64_t seed, const fs::path& work,
        std::uint64_t max_layer_cycles) {
  const AcceleratorConfig config = AcceleratorConfig::load(config_path);
  testing::Rng rng(seed);
  fs::create_directories(work);
  int ran = 0;
  std::uint64_t rtl_cycles = 0;
  for (int trial = 0; trial < 50 * layers && ran < layers; ++trial) {
    const auto c = testing::random_case(rng, config);
    if (!c) continue;  // layers that do not fit the configuration
    const Model& model = c->model;
    const compiler::Program& program = c->program;
    const auto& expected = c->expected;
    const std::vector<std::uint8_t>& dram = c->dram;
    if (dram.size() > (std::size_t{1} << 20) || program.code.size() > (std::size_t{1} << 14)) continue;  // the testbench's memories
    write_hex(work / "imem.hex", program.code);
    write_hex(work / "dram.hex", dram);
    const auto timing = sim::time_layers(program.code, program.layer_first, config);
    std::uint64_t predicted = 0;
    for (const auto& l : timing) predicted += l.cycles;
    if (predicted > max_layer_cycles) continue;  // gate-level simulation is slow: keep layers short
    const std::string what = fmt::format("layer {} ({}, seed {}, trial {})", ran, to_string(model.layers.back().op), seed, trial);
    std::vector<SimResult> results;
    for (const auto& [tag, vvp] : {std::pair{std::string("rtl"), rtl}, std::pair{std::string("gate"), gate}}) {
      SimResult r = simulate(vvp, work, tag, program.code.size(), dram.size(), 4 * predicted + 10000);
      if (r.error) {
        std::cout << fmt::format("FAIL {}: {} raised error\n", what, tag);
        return 1;
      }
      std::vector<IntTensor> actual;
      for (std::size_t l = 0; l < model.layers.size(); ++l) actual.push_back(compiler::read_tensor(program, l, r.dram));
      const std::string mismatch = first_mismatch(model, expected, actual);
      if (!mismatch.empty()) {
        std::cout << fmt::format("FAIL {}: {} differs from the reference: {}\n", what, tag, mismatch);
        return 1;
      }
      results.push_back(std::move(r));
    }
    if (results[0].cycles != results[1].cycles) {
      std::cout << fmt::format("FAIL {}: gate-level netlist took {} cycles, RTL {}\n", what, results[1].cycles, results[0].cycles);
      return 1;
    }
    for (std::size_t b = 0; b < dram.size(); ++b)
      if (results[0].dram[b] != results[1].dram[b]) {
        std::cout << fmt::format("FAIL {}: DRAM byte {:#x}: gate-level {:#04x}, RTL {:#04x}\n", what, b, results[1].dram[b], results[0].dram[b]);
        return 1;
      }
    std::cout << fmt::format("{}: bit-exact, {} cycles on RTL and netlist\n", what, results[0].cycles) << std::flush;
    rtl_cycles += results[0].cycles;
    ++ran;
  }
  if (ran < layers) {
    std::cout << fmt::format("FAIL: only {} of {} random layers fit {}\n", ran, layers, config.name);
    return 1;
  }
  std::cout << fmt::format("gate-level netlist = RTL = reference on {} random layers ({} cycles)\n", ran, rtl_cycles);
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"Random layers on the RTL and on the gate-level netlist (Icarus), compared with the reference"};
  std::string config, rtl, gate, work = "gate-check";
  int layers = 4;
  std::uint64_t seed = 1, max_layer_cycles = 20000;
  app.add_option("--config", config, "accelerator configuration (preset or JSON)")->required();
  app.add_option("--rtl", rtl, "Icarus simulation (vvp) of the RTL with tb_faq_accel")->required();
  app.add_option("--gate", gate, "Icarus simulation (vvp) of the netlist with tb_faq_accel")->required();
  app.add_option("--layers", layers, "random layers")->check(CLI::Range(1, 1000));
  app.add_option("--seed", seed, "random seed");
  app.add_option("--work", work, "folder for the vectors");
  app.add_option("--max-layer-cycles", max_layer_cycles, "skip random layers the cycle model times above this");
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e) == 0 ? 0 : 2;
  }
  try {
    return run(config, rtl, gate, layers, seed, work, max_layer_cycles);
  } catch (const InputError& e) {
    std::cerr << "faq-gate-check: " << e.what() << '\n';
    return 2;
  } catch (const std::exception& e) {
    std::cerr << "faq-gate-check: " << e.what() << '\n';
    return 1;
  }
}
