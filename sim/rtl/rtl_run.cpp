// faq-rtl-<preset> MODEL.faq [--mem-latency N] [--max-cycle-error PCT] [--program PREFIX] [--trace FILE.fst]: co-simulation of the generated accelerator
// (Verilated faq_accel of that preset) on a compiled model. The harness supplies only clock, reset, start/done,
// an instruction port (the program) and a memory with read and write channels (the DRAM image with the input
// placed); the accelerator runs the program by itself. Every layer's output is then compared with the model's
// test vectors, and the hardware's per-layer cycles (between CONFIG issues) are printed next to the cycle model's.
// Verdict line as faqc run; exit 0 bit-exact, 1 mismatch or hang, 2 bad input.
#include FAQ_VHEADER

#include "harness.h"
#include "passes.h"

#include "faq/error.h"
#include "faq/faq_file.h"
#include "faq/reference.h"
#include "faq/sim/cycle_model.h"
#include "faq/sim/energy.h"
#include "faq/sim/machine.h"
#include "faq/packing.h"

#include <CLI/CLI.hpp>
#include <fmt/format.h>
#include <verilated.h>

#include <chrono>
#include <memory>
#include <optional>
#include <cmath>
#include <deque>
#include <type_traits>

int main(int argc, char** argv) {
  Verilated::commandArgs(argc, argv);
  CLI::App app{fmt::format("faq-rtl-{}: run a model on the Verilated accelerator ({}) and compare every layer", FAQ_PRESET, FAQ_PRESET)};
  std::string model_path;
  int latency = faq::sim::TimingOptions{}.mem_latency;
  app.add_option("model", model_path, "the .faq model (with test vectors)")->required();
  app.add_option("--mem-latency", latency, "memory read latency in cycles")->capture_default_str()->check(CLI::Range(1, 10000));
  double max_error = -1;
  std::string program_prefix;
  std::uint64_t max_cycles = 0;
  std::string trace_path;
  std::uint64_t trace_from = 0, trace_to = ~std::uint64_t{0};
  app.add_option("--trace", trace_path, "write waveforms of the first test vector (FST, e.g. for GTKWave)");
  app.add_option("--trace-from", trace_from, "first cycle to trace");
  app.add_option("--trace-to", trace_to, "cycle at which tracing stops");
  app.add_option("--max-cycles", max_cycles, "give up (a hang) after this many cycles (default: 4x the cycle model's prediction + 100000)");
  app.add_option("--program", program_prefix, "run PREFIX.prog and PREFIX.dram of an earlier faqc compile (refused when made for another configuration)");
  std::string mac_energy;
  app.add_option("--mac-energy", mac_energy, "price MACs (counters and model) from this table measured on the synthesized arrays "
                                             "(docs/mac_energy.json, scripts/mac_energy.py) instead of the Horowitz model");
  app.add_option("--max-cycle-error", max_error, "fail (exit 1) when a layer's hardware cycles differ from the cycle model by more than this many percent");
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
    std::optional<faq::sim::MacEnergies> macs;  // checked before the simulation: a bad table fails fast
    if (!mac_energy.empty()) macs = faq::sim::MacEnergies::load(mac_energy);
    double counter_mac = 0;
    if (macs) {
      macs->check_fixed(config);
      counter_mac = macs->at(config.weight_bits, config.act_bits, "the counters' MACs at the array's widths");
    }
    auto program = faq::compiler::compile(model, config);
    if (!program_prefix.empty()) faq::compiler::load_program_files(program, program_prefix, config, model_path);
    faq::sim::Energy model_energy;  // (before the simulation: a table lacking a layer's widths fails fast)
    for (const auto& e : faq::sim::energy_layers(program.code, program.layer_first, config, macs ? &*macs : nullptr)) model_energy += e;
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
      std::unique_ptr<VerilatedFstC> fst;
      faq::rtl::Trace trace;
      if (!trace_path.empty() && t == 0) {
        Verilated::traceEverOn(true);
        fst = std::make_unique<VerilatedFstC>();
        m.trace(fst.get(), 99);
        fst->open(trace_path.c_str());
        if (!fst->isOpen()) faq::fail_input("{}: cannot write the trace", trace_path);
        trace = {fst.get(), trace_from, trace_to};
      }
      const faq::rtl::Run run = faq::rtl::simulate(m, program.code, dram, config.mem_port_bits / 8, latency,
                                                        max_cycles != 0 ? max_cycles : 4 * model_cycles + 100000, trace);
      if (fst) fst->close();
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
      // and against the instruction-level simulator, layer by layer
      {
        std::vector<std::uint8_t> iss_dram = program.dram;
        faq::compiler::place_input(program, model.test_vectors[t].outputs[0], iss_dram);
        faq::sim::Machine iss(config, std::move(iss_dram));
        iss.run(program.code, program.code.size() + 1);
        std::vector<faq::IntTensor> iss_layers;
        for (std::size_t l = 0; l < model.layers.size(); ++l) iss_layers.push_back(faq::compiler::read_tensor(program, l, iss.dram()));
        const std::string differs = faq::first_mismatch(model, iss_layers, actual);
        if (!differs.empty()) {
          fmt::print("bit-exact: NO, test vector {}: RTL and instruction-level simulator differ: {}\n", t, differs);
          return faq::kExitInternal;
        }
      }
      if (t == 0) {
        fmt::print("hardware counters: {} array lines ({} MAC slots), {} memory beats read, {} written, {} issue stall cycles "
                   "(waiting for LD {}, PL {}, EX {}, ST {})\n",
                   run.lines, run.lines * static_cast<std::uint64_t>(config.pes()), run.read_beats, run.write_beats, run.stall, run.unit_stall[0],
                   run.unit_stall[1], run.unit_stall[2], run.unit_stall[3]);
        fmt::print("buffer line accesses: writes SPAD {} WBUF {} ACC {} PARAM {}; reads SPAD {} WBUF {} ACC {} PARAM {}\n", run.buffer[0],
                   run.buffer[1], run.buffer[2], run.buffer[3], run.buffer[4], run.buffer[5], run.buffer[6], run.buffer[7]);
        // Energy from the hardware's counters, priced as docs/energy.md does (MACs at the array's operand widths,
        // or a scalable PE's cycle, since the counters do not know each layer's precision; post-processing and pooling adds not counted),
        // next to the energy model's account of the program (which prices each layer's own widths).
        using faq::sim::EnergyCosts;
        const double R = config.rows, C = config.cols;
        const double line_bits[4] = {static_cast<double>(config.spad_line_bits()), static_cast<double>(config.wbuf_line_bits()), C * config.acc_bits,
                                     C * faq::packing::kParamEntryBytes * 8.0};
        const double bit_cost[4] = {EnergyCosts::sram_bit(config.spad_kib), EnergyCosts::sram_bit(config.wbuf_kib),
                                    EnergyCosts::sram_bit(config.acc_kib), EnergyCosts::sram_bit(config.param_kib)};
        const double pe_cycle = macs                ? counter_mac
                                : config.scalable ? EnergyCosts::scalable_pe_cycle(config.acc_bits)
                                                  : EnergyCosts::multiply(config.act_bits, config.weight_bits) + EnergyCosts::add(config.acc_bits);
        const double mac = static_cast<double>(run.lines) * R * C * pe_cycle / 1e6;
        double onchip = 0;
        for (int k = 0; k < 8; ++k) onchip += static_cast<double>(run.buffer[static_cast<std::size_t>(k)]) * line_bits[k % 4] * bit_cost[k % 4];
        onchip /= 1e6;
        const double dram = static_cast<double>(run.read_beats + run.write_beats) * config.mem_port_bits / 8.0 * EnergyCosts::kDramPerByte / 1e6;
        fmt::print("energy from the hardware counters: {:.1f} uJ (MAC {:.1f}, buffers {:.1f}, DRAM beats {:.1f}); energy model: {:.1f} uJ "
                   "(MAC {:.1f}, on-chip {:.1f}, DRAM {:.1f}){}\n",
                   mac + onchip + dram, mac, onchip, dram, model_energy.total_pj() / 1e6, model_energy.mac_pj / 1e6, model_energy.onchip_pj / 1e6,
                   model_energy.dram_pj / 1e6, macs ? fmt::format("; MACs from {}", macs->source) : "");
      }
      if (t == 0) {
        // per layer: cycles between CONFIG issues (the last layer ends at HALT), next to the cycle model
        fmt::print("{:<24} {:>12} {:>12} {:>8}\n", "layer", "RTL cycles", "model", "diff");
        std::size_t k = 0;
        std::string worst;
        double worst_error = 0;
        for (std::size_t l = 0; l < model.layers.size(); ++l) {
          if (program.layer_first[l] == (l + 1 < model.layers.size() ? program.layer_first[l + 1] : program.code.size() - 1)) continue;
          const std::uint64_t begin = run.config_cycles[k];
          const std::uint64_t end = k + 1 < run.config_cycles.size() ? run.config_cycles[k + 1] : run.cycles;
          const auto rtl = static_cast<double>(end - begin), mod = static_cast<double>(expected_layers[l].cycles);
          const double error = 100.0 * (rtl - mod) / mod;
          fmt::print("{:<24} {:>12} {:>12} {:>+7.1f}%\n", model.layers[l].name, end - begin, expected_layers[l].cycles, error);
          if (std::abs(error) > worst_error) worst_error = std::abs(error), worst = model.layers[l].name;
          ++k;
        }
        if (max_error >= 0 && worst_error > max_error) {
          fmt::print("cycles: NO, layer '{}' differs from the cycle model by {:.1f}% (limit {}%)\n", worst, worst_error, max_error);
          return faq::kExitInternal;
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
