// AcceleratorConfig: presets load and validate, each validation rule rejects with the field's name, the
// hash is stable, covers every hardware field and ignores the name.
#include "faq/config.h"
#include "faq/error.h"
#include "faq/timing.h"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <functional>
#include <initializer_list>
#include <string>
#include <utility>
#include <vector>

namespace faq {
namespace {

TEST(Config, PresetsLoadAndValidate) {
  const auto names = AcceleratorConfig::preset_names();
  for (const char* required : {"tiny", "default", "edge"})
    EXPECT_NE(std::find(names.begin(), names.end(), required), names.end()) << required;
  for (const auto& name : names) {
    const auto config = AcceleratorConfig::load(name);
    EXPECT_EQ(config.name, name);
    EXPECT_NO_THROW(config.validate(name));
  }
  const auto tiny = AcceleratorConfig::load("tiny");
  EXPECT_EQ(tiny.rows, 4);
  EXPECT_EQ(tiny.cols, 4);
  const auto def = AcceleratorConfig::load("default");
  EXPECT_EQ(def.rows, 16);
  EXPECT_EQ(def.cols, 16);
  EXPECT_EQ(def.spad_lines(), 256 * 1024 * 8 / (16 * 8));
}

TEST(Config, JsonRoundTrip) {
  const auto config = AcceleratorConfig::load("edge");
  const auto back = AcceleratorConfig::from_json(config.to_json(), "round trip");
  EXPECT_EQ(back.canonical(), config.canonical());
  EXPECT_EQ(back.name, "edge");
}

void expect_rejected(const std::function<void(nlohmann::json&)>& change, const std::string& field) {
  nlohmann::json j = AcceleratorConfig::load("default").to_json();
  change(j);
  try {
    AcceleratorConfig::from_json(j, "test.json");
    FAIL() << "accepted a config with a bad " << field << ": " << j.dump();
  } catch (const InputError& e) {
    const std::string message = e.what();
    EXPECT_NE(message.find("test.json"), std::string::npos) << message;
    EXPECT_NE(message.find("'" + field + "'"), std::string::npos) << message;
  }
}

TEST(Config, ValidationNamesTheField) {
  expect_rejected([](auto& j) { j["rows"] = 0; }, "rows");
  expect_rejected([](auto& j) { j["rows"] = 1000; }, "rows");
  expect_rejected([](auto& j) { j["cols"] = -3; }, "cols");
  expect_rejected([](auto& j) { j["weight_bits"] = 3; }, "weight_bits");
  expect_rejected([](auto& j) { j["act_bits"] = 32; }, "act_bits");
  expect_rejected([](auto& j) { j["acc_bits"] = 12; }, "acc_bits");   // below weight_bits + act_bits
  expect_rejected([](auto& j) { j["acc_bits"] = 40; }, "acc_bits");
  expect_rejected([](auto& j) { j["rows"] = 3; j["act_bits"] = 2; }, "rows");  // 6-bit lines
  expect_rejected([](auto& j) { j["cols"] = 3; j["weight_bits"] = 4; j["act_bits"] = 4; j["acc_bits"] = 16; }, "cols");
  expect_rejected([](auto& j) { j["mem_port_bits"] = 100; }, "mem_port_bits");
  expect_rejected([](auto& j) { j["wbuf_kib"] = 0; }, "wbuf_kib");
  expect_rejected([](auto& j) { j["rows"] = 256; j["cols"] = 256; j["wbuf_kib"] = 1; }, "wbuf_kib");  // < 2 tiles
  expect_rejected([](auto& j) { j["spad_kib"] = 65536; }, "spad_kib");  // more lines than spad_addr reaches
  expect_rejected([](auto& j) { j["dataflow"] = "output_stationary"; }, "dataflow");
  expect_rejected([](auto& j) { j["rows"] = "16"; }, "rows");
  expect_rejected([](auto& j) { j["rows"] = 16.5; }, "rows");
  expect_rejected([](auto& j) { j["colums"] = 16; }, "colums");
  expect_rejected([](auto& j) { j["post_lanes"] = 3; }, "post_lanes");   // does not divide 16 columns
  expect_rejected([](auto& j) { j["post_lanes"] = 32; }, "post_lanes");  // more lanes than columns
  expect_rejected([](auto& j) { j["post_lanes"] = -1; }, "post_lanes");
  expect_rejected([](auto& j) { j["scalable"] = 1; }, "scalable");                          // not a boolean
  expect_rejected([](auto& j) { j["scalable"] = true; j["weight_bits"] = 4; j["acc_bits"] = 16; }, "scalable");  // needs W8A8
  expect_rejected([](auto& j) { j["scalable"] = true; j["pe_booth"] = true; }, "pe_booth");  // its PE has its own multipliers
  expect_rejected([](auto& j) { j["scalable"] = true; j["adder_tree"] = true; }, "adder_tree");
  expect_rejected([](auto& j) { j["parallel_pairs"] = true; }, "parallel_pairs");
}

TEST(Config, Scalable) {
  // a fixed array keeps its hash and multiplies one pair per PE; a scalable one sums 1, 2 or 4 products
  const AcceleratorConfig base = AcceleratorConfig::load("default"), scalable = AcceleratorConfig::load("scalable");
  AcceleratorConfig off = scalable;
  off.scalable = false;
  off.name = base.name;
  EXPECT_EQ(off.canonical(), base.canonical());
  EXPECT_NE(scalable.hash(), base.hash());
  EXPECT_NE(scalable.canonical().find("scalable=1;"), std::string::npos) << scalable.canonical();
  EXPECT_EQ(AcceleratorConfig::from_json(scalable.to_json(), "round trip").canonical(), scalable.canonical());
  for (int in : {2, 4, 8})
    for (int w : {2, 4, 8}) {
      EXPECT_EQ(base.products(in, w), 1);
      EXPECT_EQ(scalable.products(in, w), (in <= 4 ? 2 : 1) * (w <= 4 ? 2 : 1)) << in << " " << w;
    }
  // lines twice as wide: four 4-bit (two 8-bit) lanes per PE row or column
  EXPECT_EQ(scalable.spad_lines(), base.spad_lines() / 2);
  EXPECT_EQ(scalable.wbuf_lines(), base.wbuf_lines() / 2);
  EXPECT_EQ(scalable.acc_lines(), base.acc_lines());
}

// A field whose absence keeps every older configuration's hash: `changed` (base with `field` set to a non-default
// value) names it in its canonical text as `text`, hashes differently and survives a JSON round trip; each of `bad`
// is refused with the file and the field named.
void expect_optional_field(const AcceleratorConfig& base, const AcceleratorConfig& changed, const std::string& field,
                           const std::string& text, std::initializer_list<int> bad) {
  EXPECT_EQ(base.canonical().find(field), std::string::npos) << base.canonical();
  EXPECT_NE(changed.canonical().find(text), std::string::npos) << changed.canonical();
  EXPECT_NE(changed.hash(), base.hash());
  EXPECT_EQ(AcceleratorConfig::from_json(changed.to_json(), "round trip").canonical(), changed.canonical());
  for (int value : bad) {
    auto j = base.to_json();
    j[field] = value;
    try {
      (void)AcceleratorConfig::from_json(j, "board.json");
      ADD_FAILURE() << field << " = " << value << " accepted";
    } catch (const InputError& e) {
      EXPECT_NE(std::string(e.what()).find("board.json: field '" + field + "'"), std::string::npos) << e.what();
    }
  }
}

TEST(Config, DramAddressBits) {
  // 32 (absent) keeps every older configuration's hash; fewer bits are a different accelerator
  const AcceleratorConfig base = AcceleratorConfig::load("tiny");
  AcceleratorConfig narrow = base;
  narrow.dram_addr_bits = 17;
  expect_optional_field(base, narrow, "dram_addr_bits", "dram_addr_bits=17;", {11, 33});
  EXPECT_EQ(narrow.dram_bytes(), std::uint64_t{1} << 17);
}

TEST(Config, PostLanes) {
  // 0 (absent) and cols mean one lane per column: the same hardware, the same hash (older presets keep theirs)
  AcceleratorConfig base = AcceleratorConfig::load("default"), same = base, fewer = base;
  same.post_lanes = base.cols;
  fewer.post_lanes = 4;
  EXPECT_EQ(base.post_groups(), 1);
  EXPECT_EQ(same.hash(), base.hash());
  EXPECT_EQ(fewer.post_groups(), 4);
  EXPECT_NE(fewer.hash(), base.hash());
  EXPECT_NE(fewer.canonical().find("post_lanes=4;"), std::string::npos) << fewer.canonical();
  EXPECT_EQ(AcceleratorConfig::from_json(fewer.to_json(), "round trip").canonical(), fewer.canonical());
  EXPECT_EQ(AcceleratorConfig::load("edge").post_groups(), 8);  // one lane for 8 columns
}

TEST(Config, PostMultCycles) {
  // 1 (absent): the pipelined lane, every older hash kept; n > 1: a digit-serial lane, n cycles per element
  const AcceleratorConfig base = AcceleratorConfig::load("edge");
  AcceleratorConfig serial = base;
  serial.post_mult_cycles = 8;
  expect_optional_field(base, serial, "post_mult_cycles", "post_mult_cycles=8;", {0, 3, 16});
  EXPECT_EQ(base.lane_cycles(), 8);  // 8 columns, one lane
  EXPECT_EQ(serial.lane_cycles(), 64);
  EXPECT_EQ(timing::post_latency(serial), timing::kPostLatency + 8);
}

TEST(Config, PostDsp16) {
  // false (absent): the lanes' products in 16-bit halves, every older hash kept; true: shaped for 16x16 DSP blocks
  const AcceleratorConfig base = AcceleratorConfig::load("tiny");
  AcceleratorConfig dsp = base;
  dsp.post_dsp16 = true;
  expect_optional_field(base, dsp, "post_dsp16", "post_dsp16=1;", {0, 1});
  EXPECT_TRUE(AcceleratorConfig::load(FAQ_MODELS_DIR "/../fpga/configs/ice40_4x2.json").post_dsp16);  // the UP5K board
}

TEST(Config, DelayMemory) {
  // false (absent): the delay lines in flip-flops, every older hash kept; true: in memory (block RAM on an FPGA)
  const AcceleratorConfig base = AcceleratorConfig::load("edge");
  AcceleratorConfig in_memory = base;
  in_memory.delay_memory = true;
  expect_optional_field(base, in_memory, "delay_memory", "delay_memory=1;", {0, 1});
}

TEST(Config, PeBooth) {
  // false (absent): the PE's product through a multiplier, every older hash kept; true: by Booth digits of the weight
  const AcceleratorConfig base = AcceleratorConfig::load("edge");
  AcceleratorConfig booth = base;
  booth.pe_booth = true;
  expect_optional_field(base, booth, "pe_booth", "pe_booth=1;", {0, 1});
}

TEST(Config, AdderTree) {
  // false (absent): partial sums down a systolic chain, every older hash kept; true: a pipelined adder tree per
  // column, whose latency is the input register, the pairs' register and one per level of the tree
  const AcceleratorConfig base = AcceleratorConfig::load("edge");
  AcceleratorConfig tree = base;
  tree.adder_tree = true;
  expect_optional_field(base, tree, "adder_tree", "adder_tree=1;", {0, 1});
  EXPECT_EQ(timing::array_latency(base), 8 + 8 + 1);
  EXPECT_EQ(timing::array_latency(tree), 2 + 2);  // 4 pairs: two levels
  for (const auto& [rows, latency] : std::vector<std::pair<int, int>>{{1, 2}, {2, 2}, {3, 3}, {4, 3}, {5, 4}, {16, 5}, {17, 6}}) {
    tree.rows = rows;
    EXPECT_EQ(timing::array_latency(tree), latency) << rows << " rows";
  }
}

TEST(Config, ParallelPairs) {
  // false (absent): the second PE of a pair adds its product onto the first's sum, every older hash kept; true: the
  // two products side by side, added by the array; only with adder_tree
  AcceleratorConfig base = AcceleratorConfig::load("edge");
  base.adder_tree = true;
  AcceleratorConfig parallel = base;
  parallel.parallel_pairs = true;
  expect_optional_field(base, parallel, "parallel_pairs", "parallel_pairs=1;", {0, 1});
  EXPECT_EQ(timing::array_latency(parallel), timing::array_latency(base));
}

TEST(Config, RejectsMissingFileAndBadJson) {
  EXPECT_THROW(AcceleratorConfig::load("no-such-preset"), InputError);
  EXPECT_THROW(AcceleratorConfig::load("/nonexistent/config.json"), InputError);
  EXPECT_THROW(AcceleratorConfig::from_json(nlohmann::json::array(), "x"), InputError);
}

TEST(Config, HashCoversEveryHardwareFieldButNotTheName) {
  const AcceleratorConfig base = AcceleratorConfig::load("default");
  EXPECT_EQ(base.hash(), AcceleratorConfig::load("default").hash());
  AcceleratorConfig renamed = base;
  renamed.name = "other";
  EXPECT_EQ(renamed.hash(), base.hash());
  const std::vector<int AcceleratorConfig::*> fields = {
      &AcceleratorConfig::rows,     &AcceleratorConfig::cols,    &AcceleratorConfig::weight_bits,
      &AcceleratorConfig::act_bits, &AcceleratorConfig::acc_bits, &AcceleratorConfig::spad_kib,
      &AcceleratorConfig::wbuf_kib, &AcceleratorConfig::acc_kib, &AcceleratorConfig::param_kib,
      &AcceleratorConfig::mem_port_bits};
  for (auto field : fields) {
    AcceleratorConfig changed = base;
    changed.*field += 1;
    EXPECT_NE(changed.hash(), base.hash());
  }
  AcceleratorConfig narrow = base, pool_less = base;
  narrow.dram_addr_bits = 31;
  pool_less.pool_unit = false;
  EXPECT_NE(narrow.hash(), base.hash());
  EXPECT_NE(pool_less.hash(), base.hash());
  EXPECT_NE(pool_less.canonical().find("pool_unit=0;"), std::string::npos) << pool_less.canonical();
  EXPECT_EQ(AcceleratorConfig::from_json(pool_less.to_json(), "round trip").canonical(), pool_less.canonical());
  EXPECT_EQ(base.hash_hex().size(), 16u);
}

// The hash is FNV-1a of the canonical text; this pins the canonical form so that a change to it is deliberate
// (it invalidates every program and RTL build made before).
TEST(Config, CanonicalTextIsStable) {
  const auto config = AcceleratorConfig::load("tiny");
  EXPECT_TRUE(config.canonical().starts_with(
      "rows=4;cols=4;weight_bits=8;act_bits=8;acc_bits=32;spad_kib=16;wbuf_kib=4;acc_kib=4;param_kib=1;"
      "mem_port_bits=64;dataflow=weight_stationary;isa="))
      << config.canonical();
}

}  // namespace
}  // namespace faq
