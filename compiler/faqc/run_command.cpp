// faqc compile: lowers a .faq model for a configuration and writes the program (binary and listing) and the
// DRAM image.  faqc run: compiles, executes every test vector of the model on the instruction-level
// simulator and compares every layer's output with the vector; one verdict line, exit 0 only when all match.
#include "commands.h"

#include "lower.h"

#include "faq/error.h"
#include "faq/faq_file.h"
#include "faq/reference.h"
#include "faq/sim/machine.h"

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include <chrono>
#include <fstream>
#include <memory>

namespace faq::cli {

namespace {

struct Options {
  std::string model;
  std::string config = "default";
  std::string output;
  std::string emit;
  bool json = false;
};

// Per layer: op, output shape, MACs and the instructions the compiler emitted for it.
nlohmann::json layer_summary(const Model& model, const compiler::Program& program) {
  nlohmann::json layers = nlohmann::json::array();
  for (std::size_t l = 0; l < model.layers.size(); ++l) {
    const std::size_t end = l + 1 < model.layers.size() ? program.layer_first[l + 1] : program.code.size() - 1;
    const Layer& layer = model.layers[l];
    layers.push_back({{"name", layer.name},
                      {"op", to_string(layer.op)},
                      {"shape", {layer.out.shape.c, layer.out.shape.h, layer.out.shape.w}},
                      {"macs", layer_macs(layer)},
                      {"instructions", end - program.layer_first[l]}});
  }
  return layers;
}

void write_file(const std::string& path, const void* data, std::size_t size) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out.write(static_cast<const char*>(data), static_cast<std::streamsize>(size));
  if (!out) fail_input("{}: cannot write", path);
}

}  // namespace

Subcommand add_compile(CLI::App& app) {
  auto o = std::make_shared<Options>();
  CLI::App* sub = app.add_subcommand("compile", "Lower a .faq model into a program for an accelerator configuration");
  sub->add_option("model", o->model, "the .faq model")->required();
  sub->add_option("--config", o->config, "preset name or JSON file")->capture_default_str();
  sub->add_option("-o,--output", o->output, "output prefix: PREFIX.prog (program), PREFIX.dram (DRAM image)");
  sub->add_option("--emit", o->emit, "asm: also write PREFIX.s, the readable listing")->check(CLI::IsMember({"asm"}));
  sub->add_flag("--json", o->json, "print the summary as JSON (keys: model, config, config_hash, instructions, dram_bytes, layers)");
  return {sub, [o] {
            const Model model = read_faq(o->model);
            const AcceleratorConfig config = AcceleratorConfig::load(o->config);
            const auto start = std::chrono::steady_clock::now();
            const compiler::Program program = compiler::compile(model, config);
            const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
            const std::string prefix = o->output.empty() ? o->model.substr(0, o->model.rfind('.')) + "." + config.name : o->output;
            // Program file: "FAQP", ISA version (u32), config hash (u64), instruction count (u64), instructions.
            std::vector<std::uint8_t> bytes = {'F', 'A', 'Q', 'P'};
            auto put = [&bytes](std::uint64_t v, int n) {
              for (int i = 0; i < n; ++i) bytes.push_back(static_cast<std::uint8_t>(v >> (8 * i)));
            };
            put(static_cast<std::uint64_t>(isa::kVersion), 4);
            put(program.config_hash, 8);
            put(program.code.size(), 8);
            for (const auto& i : program.code) {
              const auto word = isa::encode(i);
              bytes.insert(bytes.end(), word.begin(), word.end());
            }
            write_file(prefix + ".prog", bytes.data(), bytes.size());
            write_file(prefix + ".dram", program.dram.data(), program.dram.size());
            if (o->emit == "asm") {
              std::ofstream listing(prefix + ".s");
              listing << fmt::format("; {} for {} (config hash {})\n", o->model, config.name, config.hash_hex());
              for (std::size_t l = 0, pc = 0; pc < program.code.size(); ++pc) {
                while (l < model.layers.size() && program.layer_first[l] == pc) listing << fmt::format("; layer {}\n", model.layers[l++].name);
                listing << isa::to_asm(program.code[pc]) << "\n";
              }
            }
            const auto layers = layer_summary(model, program);
            if (o->json) {
              fmt::print("{}\n", nlohmann::json{{"model", o->model}, {"config", config.name}, {"config_hash", config.hash_hex()},
                                                {"instructions", program.code.size()}, {"dram_bytes", program.dram.size()},
                                                {"compile_seconds", seconds}, {"layers", layers}}
                                    .dump(2));
              return 0;
            }
            fmt::print("{:<24} {:<8} {:<18} {:>12} {:>12}\n", "layer", "op", "output [C,H,W]", "MACs", "instructions");
            for (const auto& layer : layers)
              fmt::print("{:<24} {:<8} {:<18} {:>12} {:>12}\n", layer["name"].get<std::string>(), layer["op"].get<std::string>(),
                         layer["shape"].dump(), layer["macs"].get<std::int64_t>(), layer["instructions"].get<std::size_t>());
            fmt::print("{}: {} layers, {} MACs -> {} instructions, {} bytes of DRAM image, for {} ({}x{}, hash {}) in {:.3f} s\n",
                       o->model, model.layers.size(), model.mac_count(), program.code.size(), program.dram.size(), config.name,
                       config.rows, config.cols, config.hash_hex(), seconds);
            fmt::print("wrote {}.prog, {}.dram{}\n", prefix, prefix, o->emit == "asm" ? fmt::format(", {}.s", prefix) : "");
            return 0;
          }};
}

Subcommand add_run(CLI::App& app) {
  auto o = std::make_shared<Options>();
  CLI::App* sub = app.add_subcommand("run", "Compile and execute on the instruction-level simulator; compare every layer with the test vectors");
  sub->add_option("model", o->model, "the .faq model (with test vectors)")->required();
  sub->add_option("--config", o->config, "preset name or JSON file")->capture_default_str();
  return {sub, [o] {
            const Model model = read_faq(o->model);
            if (model.test_vectors.empty()) fail_input("{}: the model has no test vectors to compare with", o->model);
            const AcceleratorConfig config = AcceleratorConfig::load(o->config);
            const compiler::Program program = compiler::compile(model, config);
            const auto start = std::chrono::steady_clock::now();
            for (std::size_t t = 0; t < model.test_vectors.size(); ++t) {
              const auto& expected = model.test_vectors[t].outputs;
              std::vector<std::uint8_t> dram = program.dram;
              compiler::place_input(model, program, expected[0], dram);
              sim::Machine machine(config, std::move(dram));
              machine.run(program.code, program.code.size() + 1);
              std::vector<IntTensor> actual;
              for (std::size_t l = 0; l < model.layers.size(); ++l) actual.push_back(compiler::read_tensor(model, program, l, machine.dram()));
              const std::string mismatch = first_mismatch(model, expected, actual);
              if (!mismatch.empty()) {
                fmt::print("bit-exact: NO, test vector {}: {}\n", t, mismatch);
                return kExitInternal;
              }
            }
            const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
            fmt::print("bit-exact: {}/{} layers, {} test vectors, {} on {} ({} instructions, {:.0f} MAC/s simulated)\n", model.layers.size(),
                       model.layers.size(), model.test_vectors.size(), o->model, config.name, program.code.size(),
                       static_cast<double>(model.mac_count() * static_cast<std::int64_t>(model.test_vectors.size())) / seconds);
            return 0;
          }};
}

}  // namespace faq::cli
