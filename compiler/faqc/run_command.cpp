// faqc compile: runs the pass pipeline for a configuration, writes the program (binary and listing) and the
// DRAM image, and prints the per-layer summary from the cycle model (MACs, instructions, DRAM bytes moved,
// cycles, utilization). faqc run: executes every test vector of the model on the instruction-level simulator
// (the freshly compiled program, or the files of an earlier compile, refused when made for another
// configuration) and compares every layer's output with the vector; one verdict line, exit 0 only when all match.
#include "commands.h"

#include "passes.h"

#include "faq/error.h"
#include "faq/faq_file.h"
#include "faq/reference.h"
#include "faq/sim/cycle_model.h"
#include "faq/sim/energy.h"
#include "faq/sim/machine.h"

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <chrono>
#include <fstream>
#include <memory>
#include <optional>

namespace faq::cli {

namespace {

struct Options {
  std::string model;
  std::string config = "default";
  std::string output;
  std::string emit;
  std::string dump_after;
  std::string program;
  std::string mac_energy;
  int mem_latency = sim::TimingOptions{}.mem_latency;
  bool json = false;
  bool layers = false;
  bool energy = false;
};

void add_common(CLI::App* sub, Options& o) {
  sub->add_option("model", o.model, "the .faq model")->required();
  sub->add_option("--config", o.config, "preset name (tiny, default, wide, edge, scalable) or JSON file")->capture_default_str();
  sub->add_option("--mem-latency", o.mem_latency, "cycle model: cycles from a DRAM read request to its data")
      ->capture_default_str()
      ->check(CLI::Range(1, 100000));
  sub->add_option("--mac-energy", o.mac_energy,
                  "price MACs from this table of energies measured on the synthesized arrays (docs/mac_energy.json, "
                  "scripts/mac_energy.py) instead of the Horowitz model");
}

// The MAC energy table of --mac-energy, when given (read before compiling: a bad file fails fast).
std::optional<sim::MacEnergies> mac_energies(const Options& o) {
  if (o.mac_energy.empty()) return std::nullopt;
  return sim::MacEnergies::load(o.mac_energy);
}

// The MACs the array could have done in a layer's cycles: PEs x cycles, times the products per PE and cycle of a
// layer with weights on a precision-scalable array (docs/utilization.md).
double mac_slots(const Layer& layer, const AcceleratorConfig& config, const sim::LayerTiming& t) {
  return static_cast<double>(config.pes()) * static_cast<double>(layer.has_weights() ? t.products : 1) * static_cast<double>(t.cycles);
}

// Per layer: op, output shape, MACs, instructions and the cycle model's account.
nlohmann::json layer_summary(const Model& model, const compiler::Program& program, const AcceleratorConfig& config,
                             const std::vector<sim::LayerTiming>& timing, const std::optional<sim::MacEnergies>& mac_table) {
  const auto energy = sim::energy_layers(program.code, program.layer_first, config, mac_table ? &*mac_table : nullptr);
  nlohmann::json layers = nlohmann::json::array();
  for (std::size_t l = 0; l < model.layers.size(); ++l) {
    const std::size_t end = l + 1 < model.layers.size() ? program.layer_first[l + 1] : program.code.size() - 1;
    const Layer& layer = model.layers[l];
    const sim::LayerTiming& t = timing[l];
    const auto macs = layer_macs(layer);
    layers.push_back({{"name", layer.name},
                      {"op", to_string(layer.op)},
                      {"shape", {layer.out.shape.c, layer.out.shape.h, layer.out.shape.w}},
                      {"macs", macs},
                      {"instructions", end - program.layer_first[l]},
                      {"dram_read", t.dram_read},
                      {"dram_written", t.dram_written},
                      {"cycles", t.cycles},
                      {"products", layer.has_weights() ? t.products : 1},
                      {"utilization", t.cycles == 0 ? 0.0 : static_cast<double>(macs) / mac_slots(layer, config, t)},
                      {"busy", {{"LD", t.busy[0]}, {"PL", t.busy[1]}, {"EX", t.busy[2]}, {"ST", t.busy[3]}}},
                      {"energy_pj", {{"mac", energy[l].mac_pj}, {"onchip", energy[l].onchip_pj}, {"dram", energy[l].dram_pj}}}});
  }
  return layers;
}

struct Totals {
  std::uint64_t cycles = 0, dram = 0;
  double utilization = 0;
};

Totals totals(const Model& model, const AcceleratorConfig& config, const std::vector<sim::LayerTiming>& timing) {
  Totals t;
  double slots = 0;
  for (std::size_t l = 0; l < timing.size(); ++l) {
    t.cycles += timing[l].cycles;
    t.dram += timing[l].dram_read + timing[l].dram_written;
    slots += mac_slots(model.layers[l], config, timing[l]);
  }
  t.utilization = slots == 0 ? 0.0 : static_cast<double>(model.mac_count()) / slots;
  return t;
}

std::string human_bytes(double b) {
  if (b >= 1 << 20) return fmt::format("{:.1f} MiB", b / (1 << 20));
  if (b >= 1 << 10) return fmt::format("{:.1f} KiB", b / (1 << 10));
  return fmt::format("{:.0f} B", b);
}

void print_layers(const nlohmann::json& layers) {
  fmt::print("{:<22} {:<8} {:<16} {:>13} {:>7} {:>11} {:>11} {:>6}\n", "layer", "op", "output [C,H,W]", "MACs", "instrs", "DRAM moved",
             "cycles", "util");
  for (const auto& l : layers)
    fmt::print("{:<22} {:<8} {:<16} {:>13} {:>7} {:>11} {:>11} {:>5.1f}%\n", l["name"].get<std::string>(), l["op"].get<std::string>(),
               l["shape"].dump(), l["macs"].get<std::int64_t>(), l["instructions"].get<std::size_t>(),
               human_bytes(static_cast<double>(l["dram_read"].get<std::uint64_t>() + l["dram_written"].get<std::uint64_t>())),
               l["cycles"].get<std::uint64_t>(), 100.0 * l["utilization"].get<double>());
}

}  // namespace

Subcommand add_compile(CLI::App& app) {
  auto o = std::make_shared<Options>();
  CLI::App* sub = app.add_subcommand("compile", "Lower a .faq model into a program for an accelerator configuration");
  add_common(sub, *o);
  sub->add_option("-o,--output", o->output, "output prefix: PREFIX.prog (program), PREFIX.dram (DRAM image)");
  sub->add_option("--emit", o->emit, "asm: also write PREFIX.s, the readable listing")->check(CLI::IsMember({"asm"}));
  std::vector<std::string> passes = {"all"};
  for (const auto& p : compiler::pipeline()) passes.emplace_back(p.name);
  sub->add_option("--dump-after", o->dump_after, "print the IR as text after this pass (or after every pass: all)")->check(CLI::IsMember(passes));
  sub->add_flag("--json", o->json, "print the summary as JSON (keys: model, config, config_hash, instructions, dram_bytes, cycles, "
                                   "utilization, dram_moved, layers)");
  return {sub, [o] {
            const Model model = read_faq(o->model);
            const AcceleratorConfig config = AcceleratorConfig::load(o->config);
            const auto macs = mac_energies(*o);
            const auto start = std::chrono::steady_clock::now();
            const compiler::Program program = compiler::compile(model, config, [&](const compiler::Pass& pass, const compiler::Module& m) {
              if (o->dump_after == "all" || o->dump_after == pass.name) fmt::print("; IR after {}\n{}", pass.name, compiler::to_text(m));
            });
            const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
            const std::string prefix = o->output.empty() ? o->model.substr(0, o->model.rfind('.')) + "." + config.name : o->output;
            compiler::write_program(prefix + ".prog", program);
            compiler::write_dram(prefix + ".dram", program);
            if (o->emit == "asm") {
              std::ofstream listing(prefix + ".s");
              listing << fmt::format("; {} for {} (config hash {})\n", o->model, config.name, config.hash_hex());
              for (std::size_t l = 0, pc = 0; pc < program.code.size(); ++pc) {
                while (l < model.layers.size() && program.layer_first[l] == pc) listing << fmt::format("; layer {}\n", model.layers[l++].name);
                listing << isa::to_asm(program.code[pc]) << "\n";
              }
              if (!listing) fail_input("{}.s: cannot write", prefix);
            }
            const auto timing = sim::time_layers(program.code, program.layer_first, config, {.mem_latency = o->mem_latency});
            const auto layers = layer_summary(model, program, config, timing, macs);
            const Totals t = totals(model, config, timing);
            if (o->json) {
              fmt::print("{}\n", nlohmann::json{{"model", o->model}, {"config", config.name}, {"config_hash", config.hash_hex()},
                                                {"pes", config.pes()}, {"instructions", program.code.size()}, {"dram_bytes", program.dram.size()},
                                                {"cycles", t.cycles}, {"utilization", t.utilization}, {"dram_moved", t.dram},
                                                {"compile_seconds", seconds}, {"layers", layers}}
                                    .dump(2));
              return 0;
            }
            print_layers(layers);
            fmt::print("{}: {} layers, {} MACs -> {} instructions, {} DRAM image, for {} ({}x{}, hash {}) in {:.3f} s\n", o->model,
                       model.layers.size(), model.mac_count(), program.code.size(), human_bytes(static_cast<double>(program.dram.size())),
                       config.name, config.rows, config.cols, config.hash_hex(), seconds);
            fmt::print("cycle model: {} cycles, utilization {:.1f}%, {} DRAM moved per inference\n", t.cycles, 100.0 * t.utilization,
                       human_bytes(static_cast<double>(t.dram)));
            fmt::print("wrote {}.prog, {}.dram{}\n", prefix, prefix, o->emit == "asm" ? fmt::format(", {}.s", prefix) : "");
            return 0;
          }};
}

Subcommand add_run(CLI::App& app) {
  auto o = std::make_shared<Options>();
  CLI::App* sub = app.add_subcommand("run", "Execute on the instruction-level simulator; compare every layer with the test vectors");
  add_common(sub, *o);
  sub->add_option("--program", o->program, "run PREFIX.prog and PREFIX.dram of an earlier faqc compile instead of compiling");
  sub->add_flag("--layers", o->layers, "print the cycle model's per-layer table");
  sub->add_flag("--energy", o->energy, "print the energy model's per-layer energy (MAC, on-chip memory, DRAM; docs/energy.md)");
  return {sub, [o] {
            const Model model = read_faq(o->model);
            if (model.test_vectors.empty()) fail_input("{}: the model has no test vectors to compare with", o->model);
            const AcceleratorConfig config = AcceleratorConfig::load(o->config);
            const auto macs = mac_energies(*o);
            compiler::Program program = compiler::compile(model, config);
            if (!o->program.empty()) compiler::load_program_files(program, o->program, config, o->model);
            const auto start = std::chrono::steady_clock::now();
            for (std::size_t t = 0; t < model.test_vectors.size(); ++t) {
              auto expected = model.test_vectors[t].outputs;
              expected[0] = compiler::stored_input(program, expected[0]);
              std::vector<std::uint8_t> dram = program.dram;
              compiler::place_input(program, model.test_vectors[t].outputs[0], dram);
              sim::Machine machine(config, std::move(dram));
              machine.run(program.code, program.code.size() + 1);
              std::vector<IntTensor> actual;
              for (std::size_t l = 0; l < model.layers.size(); ++l) actual.push_back(compiler::read_tensor(program, l, machine.dram()));
              const std::string mismatch = first_mismatch(model, expected, actual);
              if (!mismatch.empty()) {
                fmt::print("bit-exact: NO, test vector {}: {}\n", t, mismatch);
                return kExitInternal;
              }
            }
            const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
            const auto timing = sim::time_layers(program.code, program.layer_first, config, {.mem_latency = o->mem_latency});
            const auto summary = layer_summary(model, program, config, timing, macs);
            if (o->layers) print_layers(summary);
            if (o->energy) {
              fmt::print("{:<22} {:>12} {:>12} {:>12} {:>12}\n", "layer", "MAC uJ", "on-chip uJ", "DRAM uJ", "total uJ");
              double mac = 0, onchip = 0, dram = 0;
              for (const auto& l : summary) {
                const auto& e = l["energy_pj"];
                const double a = e["mac"].get<double>() / 1e6, b = e["onchip"].get<double>() / 1e6, c = e["dram"].get<double>() / 1e6;
                mac += a, onchip += b, dram += c;
                fmt::print("{:<22} {:>12.3f} {:>12.3f} {:>12.3f} {:>12.3f}\n", l["name"].get<std::string>(), a, b, c, a + b + c);
              }
              fmt::print("energy per inference: {:.1f} uJ (MAC {:.1f}, on-chip memory {:.1f}, DRAM {:.1f}; {})\n", mac + onchip + dram, mac,
                         onchip, dram,
                         macs ? fmt::format("MACs from {}, other events Horowitz 45 nm", macs->source) : "Horowitz 45 nm event energies");
            }
            const Totals t = totals(model, config, timing);
            fmt::print("bit-exact: {}/{} layers, {} test vectors, {} on {} ({} instructions, {:.0f} MAC/s simulated); "
                       "{} cycles, utilization {:.1f}%\n",
                       model.layers.size(), model.layers.size(), model.test_vectors.size(), o->model, config.name, program.code.size(),
                       static_cast<double>(model.mac_count() * static_cast<std::int64_t>(model.test_vectors.size())) / seconds, t.cycles,
                       100.0 * t.utilization);
            return 0;
          }};
}

}  // namespace faq::cli
