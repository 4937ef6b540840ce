// The energy model (docs/energy.md) on hand-priced instructions: the Horowitz anchor points, quadratic multiplier
// and linear adder energy, DRAM bytes, and a compiled W4A4 network costing less MAC and DRAM energy than W8A8.
#include "passes.h"

#include "faq/error.h"
#include "faq/faq_file.h"
#include "faq/sim/energy.h"

#include <gtest/gtest.h>

#include <fstream>
#include <string>

namespace faq::sim {
namespace {

using isa::Instruction;
using isa::Opcode;

TEST(Energy, HorowitzAnchors) {
  EXPECT_DOUBLE_EQ(EnergyCosts::multiply(8, 8), 0.2);
  EXPECT_DOUBLE_EQ(EnergyCosts::multiply(4, 4), 0.05);  // quadratic
  EXPECT_DOUBLE_EQ(EnergyCosts::add(32), 0.1);
  EXPECT_DOUBLE_EQ(EnergyCosts::add(16), 0.05);  // linear
  EXPECT_DOUBLE_EQ(EnergyCosts::sram_bit(8), 10.0 / 64);
  EXPECT_DOUBLE_EQ(EnergyCosts::sram_bit(32), 20.0 / 64);
  EXPECT_DOUBLE_EQ(EnergyCosts::sram_bit(1024), 100.0 / 64);
  EXPECT_GT(EnergyCosts::sram_bit(256), EnergyCosts::sram_bit(64));
}

TEST(Energy, InstructionsArePricedByTheirEvents) {
  const AcceleratorConfig cfg = AcceleratorConfig::load("tiny");  // 4x4, 8-bit, 32-bit accumulators
  Instruction config(Opcode::Config);
  config[isa::Config::in_bits] = 4;
  config[isa::Config::weight_bits] = 8;
  config[isa::Config::out_bits] = 8;
  config[isa::Config::res_bits] = 8;
  Instruction mm(Opcode::Matmul);
  mm[isa::Matmul::count_y] = 2;
  mm[isa::Matmul::count_x] = 5;
  Instruction load(Opcode::Load);
  load[isa::Load::buffer] = static_cast<std::uint64_t>(isa::Buffer::Spad);
  load[isa::Load::count_y] = 1;
  load[isa::Load::count_x] = 3;
  const std::vector<Instruction> code = {config, mm, load, Instruction(Opcode::Halt)};
  const std::vector<std::size_t> first = {0, 2};
  const auto e = energy_layers(code, first, cfg);
  ASSERT_EQ(e.size(), 2u);
  EXPECT_DOUBLE_EQ(e[0].mac_pj, 10.0 * 16 * (EnergyCosts::multiply(4, 8) + EnergyCosts::add(32)));
  EXPECT_DOUBLE_EQ(e[0].dram_pj, 0.0);
  EXPECT_DOUBLE_EQ(e[1].dram_pj, 3 * 4 * 4 / 8.0 * EnergyCosts::kDramPerByte);  // 3 lines of 4 lanes x 4 bits
  EXPECT_DOUBLE_EQ(e[1].mac_pj, 0.0);
}

TEST(Energy, MeasuredMacEnergiesPriceTheMatmuls) {
  const AcceleratorConfig cfg = AcceleratorConfig::load("tiny");
  Instruction config(Opcode::Config);
  config[isa::Config::in_bits] = 4;
  config[isa::Config::weight_bits] = 8;
  Instruction mm(Opcode::Matmul);
  mm[isa::Matmul::count_y] = 3;
  mm[isa::Matmul::count_x] = 2;
  const std::vector<Instruction> code = {config, mm, Instruction(Opcode::Halt)};
  const std::vector<std::size_t> first = {0};
  MacEnergies table;
  table.set(8, 4, 1.25);  // weight 8 bits, activations 4
  table.set(4, 8, 100.0);
  const auto e = energy_layers(code, first, cfg, &table);
  EXPECT_DOUBLE_EQ(e[0].mac_pj, 6.0 * 16 * 1.25);
  EXPECT_DOUBLE_EQ(e[0].onchip_pj, energy_layers(code, first, cfg)[0].onchip_pj);  // only the MACs change
  MacEnergies other;
  other.set(4, 8, 1.0);
  EXPECT_THROW(energy_layers(code, first, cfg, &other), InputError);  // W8A4 missing
  EXPECT_THROW(energy_layers(code, first, AcceleratorConfig::load("scalable"), &table), InputError);
}

TEST(Energy, MacEnergyTablesAreCheckedOnLoad) {
  const std::string dir = testing::TempDir();
  auto load = [&](const std::string& name, const std::string& text) {
    std::ofstream(dir + name) << text;
    try {
      const MacEnergies t = MacEnergies::load(dir + name);
      return std::string("loaded ") + (t.find(8, 8) ? std::to_string(*t.find(8, 8)) : "");
    } catch (const InputError& e) {
      return std::string(e.what());
    }
  };
  EXPECT_EQ(load("good.json", R"({"macs": [{"weight_bits": 8, "act_bits": 8, "pj_per_mac": 0.5}]})"), "loaded " + std::to_string(0.5));
  EXPECT_NE(load("bits.json", R"({"macs": [{"weight_bits": 0, "act_bits": 8, "pj_per_mac": 0.5}]})").find("macs[0]: field 'weight_bits'"),
            std::string::npos);
  EXPECT_NE(load("huge.json", R"({"macs": [{"weight_bits": 4294967304, "act_bits": 8, "pj_per_mac": 0.5}]})").find("field 'weight_bits'"),
            std::string::npos);  // not wrapped to 8
  EXPECT_NE(load("pj.json", R"({"macs": [{"weight_bits": 8, "act_bits": 8, "pj_per_mac": "x"}]})").find("field 'pj_per_mac'"), std::string::npos);
  EXPECT_NE(load("twice.json", R"({"macs": [{"weight_bits": 8, "act_bits": 8, "pj_per_mac": 1}, {"weight_bits": 8, "act_bits": 8, "pj_per_mac": 2}]})")
                .find("macs[1]: W8A8 is given twice"),
            std::string::npos);
  EXPECT_NE(load("empty.json", R"({"macs": []})").find("field 'macs'"), std::string::npos);
  EXPECT_NE(load("trunc.json", R"({"macs": [)").find("trunc.json: not a JSON object"), std::string::npos);
  EXPECT_THROW(MacEnergies::load(dir + "absent.json"), InputError);
}

TEST(Energy, FourBitNetworkCostsLessThanEightBit) {
  const AcceleratorConfig cfg = AcceleratorConfig::load("default");
  auto total = [&](const char* name) {
    const Model m = read_faq(std::string(FAQ_MODELS_DIR) + "/" + name);
    const auto p = compiler::compile(m, cfg);
    Energy sum;
    for (const auto& l : energy_layers(p.code, p.layer_first, cfg)) sum += l;
    return sum;
  };
  const Energy w4 = total("fmnist_resnet20_w4a4.faq"), w8 = total("fmnist_resnet20_w8a8.faq");
  EXPECT_LT(w4.mac_pj, 0.7 * w8.mac_pj);
  EXPECT_LT(w4.dram_pj, w8.dram_pj);
  EXPECT_GT(w4.onchip_pj, 0.0);
}

}  // namespace
}  // namespace faq::sim
