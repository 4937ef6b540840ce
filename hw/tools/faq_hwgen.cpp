// faq-hwgen --config NAME|FILE.json -o DIR: writes the generated RTL for that configuration, one file per module,
// DIR/files.f listing them in dependency order (for verilator -f, iverilog -c, yosys) and DIR/config.json (the
// configuration, for scripts that need its fields).
// Exit 0, 2 for bad input (one line), 1 for internal failure.
#include "faq/error.h"
#include "faq/hw/generate.h"

#include <CLI/CLI.hpp>
#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include <filesystem>
#include <fstream>

int main(int argc, char** argv) {
  CLI::App app{"faq-hwgen: generate the accelerator's Verilog for a configuration", "faq-hwgen"};
  std::string config_name = "default", out_dir = ".";
  app.add_option("--config", config_name, "preset name (tiny, default, wide, edge, scalable) or JSON file")->capture_default_str();
  app.add_option("-o,--output", out_dir, "output folder")->capture_default_str();
  try {
    app.parse(argc, argv);
  } catch (const CLI::Success& e) {
    return app.exit(e);
  } catch (const CLI::ParseError& e) {
    fmt::print(stderr, "faq-hwgen: {} (see --help)\n", e.what());
    return faq::kExitBadInput;
  }
  try {
    const auto config = faq::AcceleratorConfig::load(config_name);
    std::filesystem::create_directories(out_dir);
    const auto files = faq::hw::generate_verilog(config);
    std::string list;
    auto write = [](const std::filesystem::path& path, const std::string& text) {
      std::ofstream out(path, std::ios::trunc);
      out << text;
      if (!out) faq::fail_input("{}: cannot write", path.string());
    };
    for (const auto& [name, text] : files) {
      write(std::filesystem::path(out_dir) / name, text);
      list += (std::filesystem::path(out_dir) / name).string() + "\n";
    }
    write(std::filesystem::path(out_dir) / "files.f", list);
    write(std::filesystem::path(out_dir) / "config.json", config.to_json().dump(2) + "\n");  // what the RTL was built for
    fmt::print("wrote {} modules and {}/files.f for '{}' (hash {})\n", files.size(), out_dir, config.name, config.hash_hex());
    return 0;
  } catch (const faq::InputError& e) {
    fmt::print(stderr, "faq-hwgen: {}\n", e.what());
    return faq::kExitBadInput;
  } catch (const std::exception& e) {
    fmt::print(stderr, "faq-hwgen: internal error: {}\n", e.what());
    return faq::kExitInternal;
  }
}
