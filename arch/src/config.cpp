// AcceleratorConfig: JSON reading with per-key errors, validation rules (docs/config.md) and the hash.
#include "faq/config.h"

#include "faq/error.h"
#include "faq/hash.h"
#include "faq/isa.h"

#include <fmt/format.h>
#include <fmt/ranges.h>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <sstream>

namespace faq {

// Generated from arch/presets/*.json by CMake (presets.cpp).
struct PresetText {
  std::string_view name;
  std::string_view json;
};
std::span<const PresetText> builtin_presets();

namespace {

std::int64_t lines_of(int kib, int line_bits) { return (std::int64_t{kib} * 1024 * 8) / line_bits; }

bool is_power_of_two(int v) { return v > 0 && (v & (v - 1)) == 0; }

// The largest line index a field of the ISA table can address.
std::int64_t addressable_lines(isa::Opcode opcode, std::string_view field_name) {
  for (const auto& field : isa::spec_of(opcode).field_list())
    if (field.name == field_name) return static_cast<std::int64_t>(field.max()) + 1;
  throw std::logic_error(fmt::format("ISA field {} missing", field_name));
}

}  // namespace

std::string_view to_string(Dataflow dataflow) {
  switch (dataflow) {
    case Dataflow::WeightStationary: return "weight_stationary";
  }
  return "?";
}

std::int64_t AcceleratorConfig::spad_lines() const { return lines_of(spad_kib, spad_line_bits()); }
std::int64_t AcceleratorConfig::wbuf_lines() const { return lines_of(wbuf_kib, wbuf_line_bits()); }
std::int64_t AcceleratorConfig::acc_lines() const { return lines_of(acc_kib, acc_line_bits()); }
std::int64_t AcceleratorConfig::param_lines() const { return lines_of(param_kib, param_line_bits()); }

void AcceleratorConfig::validate(std::string_view origin) const {
  auto bad = [&](std::string_view field, const std::string& problem) {
    fail_input("{}: field '{}': {}", origin, field, problem);
  };
  auto check_range = [&](std::string_view field, int value, int lo, int hi) {
    if (value < lo || value > hi) bad(field, fmt::format("{} is outside [{}, {}]", value, lo, hi));
  };
  auto check_bits = [&](std::string_view field, int value) {
    if (value != 2 && value != 4 && value != 8 && value != 16) bad(field, fmt::format("{} is not one of 2, 4, 8, 16", value));
  };
  check_range("rows", rows, 1, 256);
  check_range("cols", cols, 1, 256);
  check_bits("weight_bits", weight_bits);
  check_bits("act_bits", act_bits);
  check_range("acc_bits", acc_bits, weight_bits + act_bits, 32);
  if (scalable && (weight_bits != 8 || act_bits != 8))
    bad("scalable", fmt::format("precision-scalable PEs are built for weight_bits = act_bits = 8 (got {} and {})", weight_bits, act_bits));
  if (scalable && pe_booth) bad("pe_booth", "precision-scalable PEs have their own multipliers (pe_booth is for the fixed PE)");
  if (scalable && adder_tree) bad("adder_tree", "precision-scalable PEs pass their partial sums down the column (adder_tree is for the fixed PE)");
  if (parallel_pairs && !adder_tree) bad("parallel_pairs", "the pairs are an adder tree's (set adder_tree)");
  if (spad_line_bits() % 8 != 0)
    bad("rows", fmt::format("rows x act_bits = {} bits is not a whole number of bytes", spad_line_bits()));
  if (wbuf_line_bits() % 8 != 0 || (cols * act_bits) % 8 != 0)
    bad("cols", fmt::format("cols x weight_bits and cols x act_bits must be whole bytes ({} x {}, {} x {})", cols,
                            weight_bits, cols, act_bits));
  check_range("spad_kib", spad_kib, 1, 1 << 16);
  check_range("wbuf_kib", wbuf_kib, 1, 1 << 16);
  check_range("acc_kib", acc_kib, 1, 1 << 16);
  check_range("param_kib", param_kib, 1, 1 << 16);
  if (post_lanes != 0 && (post_lanes < 1 || post_lanes > cols || cols % post_lanes != 0))
    bad("post_lanes", fmt::format("{} does not divide cols = {} (0: one lane per column)", post_lanes, cols));
  if (!is_power_of_two(mem_port_bits) || mem_port_bits < 8 || mem_port_bits > 1024)
    bad("mem_port_bits", fmt::format("{} is not a power of two in [8, 1024]", mem_port_bits));
  check_range("dram_addr_bits", dram_addr_bits, 12, 32);
  if (post_mult_cycles != 1 && post_mult_cycles != 2 && post_mult_cycles != 4 && post_mult_cycles != 8)
    bad("post_mult_cycles", fmt::format("{} is not one of 1, 2, 4, 8", post_mult_cycles));

  auto check_lines = [&](std::string_view field, std::int64_t lines, std::int64_t min_lines, std::int64_t max_lines,
                         std::string_view why) {
    if (lines < min_lines)
      bad(field, fmt::format("holds {} lines, fewer than the {} {}", lines, min_lines, why));
    if (lines > max_lines)
      bad(field, fmt::format("holds {} lines, more than the {} the instruction set can address", lines, max_lines));
  };
  check_lines("spad_kib", spad_lines(), 1, addressable_lines(isa::Opcode::Matmul, "spad_addr"), "needed");
  check_lines("wbuf_kib", wbuf_lines(), 2 * std::int64_t{rows}, addressable_lines(isa::Opcode::Preload, "wbuf_addr"),
              "of two weight tiles (double buffering)");
  check_lines("acc_kib", acc_lines(), 1, addressable_lines(isa::Opcode::Matmul, "acc_addr"), "needed");
  check_lines("param_kib", param_lines(), 1, addressable_lines(isa::Opcode::Vadd, "param_addr"), "needed");
}

std::string AcceleratorConfig::canonical() const {
  return fmt::format(
      "rows={};cols={};weight_bits={};act_bits={};acc_bits={};spad_kib={};wbuf_kib={};acc_kib={};param_kib={};"
      "mem_port_bits={};dataflow={};{}{}{}{}{}{}{}{}{}{}{}isa={}",
      rows, cols, weight_bits, act_bits, acc_bits, spad_kib, wbuf_kib, acc_kib, param_kib, mem_port_bits,
      to_string(dataflow), post_lane_count() != cols ? fmt::format("post_lanes={};", post_lane_count()) : "",
      scalable ? "scalable=1;" : "", dram_addr_bits != 32 ? fmt::format("dram_addr_bits={};", dram_addr_bits) : "",
      pool_unit ? "" : "pool_unit=0;", serial_issue ? "serial_issue=1;" : "",
      post_mult_cycles != 1 ? fmt::format("post_mult_cycles={};", post_mult_cycles) : "", post_dsp16 ? "post_dsp16=1;" : "",
      delay_memory ? "delay_memory=1;" : "", pe_booth ? "pe_booth=1;" : "", adder_tree ? "adder_tree=1;" : "",
      parallel_pairs ? "parallel_pairs=1;" : "", faq::hash_hex(isa::signature_hash()));
}

std::uint64_t AcceleratorConfig::hash() const { return fnv1a64(canonical()); }
std::string AcceleratorConfig::hash_hex() const { return faq::hash_hex(hash()); }

nlohmann::json AcceleratorConfig::to_json() const {
  nlohmann::json j = {{"name", name},         {"rows", rows},         {"cols", cols},
          {"weight_bits", weight_bits}, {"act_bits", act_bits}, {"acc_bits", acc_bits},
          {"spad_kib", spad_kib}, {"wbuf_kib", wbuf_kib}, {"acc_kib", acc_kib},
          {"param_kib", param_kib}, {"mem_port_bits", mem_port_bits}, {"dataflow", to_string(dataflow)}};
  if (post_lane_count() != cols) j["post_lanes"] = post_lanes;
  if (scalable) j["scalable"] = true;
  if (dram_addr_bits != 32) j["dram_addr_bits"] = dram_addr_bits;
  if (!pool_unit) j["pool_unit"] = false;
  if (serial_issue) j["serial_issue"] = true;
  if (post_mult_cycles != 1) j["post_mult_cycles"] = post_mult_cycles;
  if (post_dsp16) j["post_dsp16"] = true;
  if (delay_memory) j["delay_memory"] = true;
  if (pe_booth) j["pe_booth"] = true;
  if (adder_tree) j["adder_tree"] = true;
  if (parallel_pairs) j["parallel_pairs"] = true;
  return j;
}

AcceleratorConfig AcceleratorConfig::from_json(const nlohmann::json& j, std::string_view origin) {
  if (!j.is_object()) fail_input("{}: a configuration must be a JSON object", origin);
  AcceleratorConfig config;
  const std::pair<std::string_view, int AcceleratorConfig::*> int_fields[] = {
      {"rows", &AcceleratorConfig::rows},         {"cols", &AcceleratorConfig::cols},
      {"weight_bits", &AcceleratorConfig::weight_bits}, {"act_bits", &AcceleratorConfig::act_bits},
      {"acc_bits", &AcceleratorConfig::acc_bits}, {"spad_kib", &AcceleratorConfig::spad_kib},
      {"wbuf_kib", &AcceleratorConfig::wbuf_kib}, {"acc_kib", &AcceleratorConfig::acc_kib},
      {"param_kib", &AcceleratorConfig::param_kib}, {"mem_port_bits", &AcceleratorConfig::mem_port_bits},
      {"post_lanes", &AcceleratorConfig::post_lanes}, {"dram_addr_bits", &AcceleratorConfig::dram_addr_bits},
      {"post_mult_cycles", &AcceleratorConfig::post_mult_cycles}};
  const std::pair<std::string_view, bool AcceleratorConfig::*> bool_fields[] = {
      {"scalable", &AcceleratorConfig::scalable}, {"pool_unit", &AcceleratorConfig::pool_unit},
      {"serial_issue", &AcceleratorConfig::serial_issue}, {"post_dsp16", &AcceleratorConfig::post_dsp16},
      {"delay_memory", &AcceleratorConfig::delay_memory}, {"pe_booth", &AcceleratorConfig::pe_booth},
      {"adder_tree", &AcceleratorConfig::adder_tree}, {"parallel_pairs", &AcceleratorConfig::parallel_pairs}};
  for (const auto& [key, value] : j.items()) {
    if (key == "name") {
      if (!value.is_string()) fail_input("{}: field 'name': must be a string", origin);
      config.name = value.get<std::string>();
      continue;
    }
    if (key == "dataflow") {
      if (!value.is_string()) fail_input("{}: field 'dataflow': must be a string", origin);
      if (value.get<std::string>() != "weight_stationary")
        fail_input("{}: field 'dataflow': '{}' is not implemented (supported: weight_stationary)", origin,
                   value.get<std::string>());
      continue;
    }
    const std::string& name = key;  // structured bindings cannot be captured before C++20 in clang 14
    if (const auto* flag = std::find_if(std::begin(bool_fields), std::end(bool_fields), [&](const auto& f) { return f.first == name; });
        flag != std::end(bool_fields)) {
      if (!value.is_boolean()) fail_input("{}: field '{}': must be true or false, got {}", origin, key, value.dump());
      config.*(flag->second) = value.get<bool>();
      continue;
    }
    const auto* field = std::find_if(std::begin(int_fields), std::end(int_fields),
                                     [&](const auto& f) { return f.first == name; });
    if (field == std::end(int_fields)) fail_input("{}: unknown field '{}'", origin, key);
    if (!value.is_number_integer() || value.get<std::int64_t>() < -(1LL << 30) || value.get<std::int64_t>() > (1LL << 30))
      fail_input("{}: field '{}': must be an integer, got {}", origin, key, value.dump());
    config.*(field->second) = value.get<int>();
  }
  config.validate(origin);
  return config;
}

AcceleratorConfig AcceleratorConfig::from_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) fail_input("{}: cannot open configuration file", path);
  std::stringstream text;
  text << in.rdbuf();
  const auto j = nlohmann::json::parse(text.str(), nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded()) fail_input("{}: not valid JSON", path);
  return from_json(j, path);
}

AcceleratorConfig AcceleratorConfig::load(const std::string& name_or_path) {
  for (const auto& preset : builtin_presets()) {
    if (preset.name == name_or_path) {
      auto config = from_json(nlohmann::json::parse(preset.json), fmt::format("preset '{}'", preset.name));
      config.name = std::string(preset.name);
      return config;
    }
  }
  if (name_or_path.ends_with(".json") || std::filesystem::exists(name_or_path)) return from_file(name_or_path);
  fail_input("'{}' is neither a preset ({}) nor a JSON file", name_or_path, fmt::join(preset_names(), ", "));
}

std::vector<std::string> AcceleratorConfig::preset_names() {
  std::vector<std::string> names;
  for (const auto& preset : builtin_presets()) names.emplace_back(preset.name);
  return names;
}

}  // namespace faq
