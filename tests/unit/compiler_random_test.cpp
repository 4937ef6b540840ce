// Constrained-random layers: random shapes, kernels, strides, paddings, precisions and configurations (a third
// of them precision-scalable) with buffers small enough to force tiling; each layer is compiled, executed on the instruction-level simulator
// and compared element by element with the reference interpreter.
#include "passes.h"
#include "random_model.h"

#include "faq/error.h"
#include "faq/faq_file.h"
#include "faq/reference.h"
#include "faq/sim/machine.h"

#include <fmt/format.h>
#include <gtest/gtest.h>

#include <bit>
#include <random>

namespace faq {
namespace {

using testing::pick;
using testing::random_input;
using testing::random_model;
using testing::Rng;
using testing::uniform;

AcceleratorConfig random_config(Rng& rng) {
  AcceleratorConfig c;
  c.name = "random";
  c.rows = pick(rng, {1, 2, 4, 8});
  c.cols = pick(rng, {1, 2, 4, 8, 16});
  c.spad_kib = uniform(rng, 1, 8);
  c.wbuf_kib = 4;
  c.acc_kib = uniform(rng, 1, 4);
  c.param_kib = 1;
  c.mem_port_bits = 64;
  c.scalable = uniform(rng, 0, 2) == 0;  // precision-scalable PEs: 1, 2 or 4 products per cycle by layer
  c.dram_addr_bits = pick(rng, {32, 20, 18});  // the simulator faults on any access beyond 2^dram_addr_bits
  c.pool_unit = uniform(rng, 0, 3) != 0;       // without it: average pooling as a convolution, max pooling refused
  c.validate("random config");
  return c;
}

// A DRAM image larger than the configuration's addresses reach is refused, naming the field.
TEST(CompilerRandom, ImageBeyondTheDramAddressBitsIsRefused) {
  const Model model = read_faq(std::string(FAQ_MODELS_DIR) + "/fmnist_resnet20_w4a4.faq");
  AcceleratorConfig config = AcceleratorConfig::load("tiny");
  const std::uint64_t bytes = compiler::compile(model, config).dram.size();
  ASSERT_GT(bytes, 1u << 16);
  config.dram_addr_bits = static_cast<int>(std::bit_width(bytes - 1));  // just enough
  EXPECT_EQ(compiler::compile(model, config).dram.size(), bytes);
  config.dram_addr_bits -= 1;
  try {
    (void)compiler::compile(model, config);
    ADD_FAILURE() << "a " << bytes << "-byte image compiled for " << config.dram_addr_bits << "-bit DRAM addresses";
  } catch (const InputError& e) {
    EXPECT_NE(std::string(e.what()).find(fmt::format("field 'dram_addr_bits' = {}", config.dram_addr_bits)), std::string::npos) << e.what();
  }
}

// Without a POOL unit max pooling is refused, naming the field, and POOL is a fault on the simulator.
TEST(CompilerRandom, MaxPoolingNeedsThePoolUnit) {
  AcceleratorConfig config = AcceleratorConfig::load("tiny");
  Rng rng(3);
  for (int trial = 0; trial < 2000; ++trial) {
    const Model model = random_model(rng);
    if (model.layers.back().op != OpKind::MaxPool) continue;
    config.pool_unit = true;
    const compiler::Program program = compiler::compile(model, config);
    config.pool_unit = false;
    try {
      (void)compiler::compile(model, config);
      ADD_FAILURE() << "max pooling compiled without the POOL unit";
    } catch (const InputError& e) {
      EXPECT_NE(std::string(e.what()).find("(field 'pool_unit')"), std::string::npos) << e.what();
    }
    sim::Machine machine(config, program.dram);
    try {
      machine.run(program.code, program.code.size() + 1);
      ADD_FAILURE() << "POOL ran without the POOL unit";
    } catch (const InputError& e) {
      EXPECT_NE(std::string(e.what()).find("POOL on a configuration without the POOL unit"), std::string::npos) << e.what();
    }
    return;
  }
  FAIL() << "no max pooling drawn";
}

TEST(CompilerRandom, LayersEqualReferenceOnSimulator) {
  Rng rng(2026);
  int ran = 0, refused = 0, expanded = 0, packed = 0, lowered = 0;
  for (int trial = 0; trial < 2000 && ran < 240; ++trial) {
    const AcceleratorConfig config = random_config(rng);
    const Model model = random_model(rng);
    compiler::Program program;
    try {
      program = compiler::compile(model, config);
    } catch (const InputError& e) {
      // e.g. no tiling fits the tiny buffers: refusing is allowed, miscomputing is not, nor emitting an
      // instruction whose fields do not fit (a compiler bug, not a limit of the model)
      ASSERT_EQ(std::string(e.what()).find("does not fit in"), std::string::npos) << "trial " << trial << ": " << e.what();
      ++refused;
      continue;
    }
    const IntTensor input = random_input(rng, model);
    auto expected = run_reference(model, input);
    expected[0] = compiler::stored_input(program, expected[0]);
    expanded += program.input.active ? 1 : 0;
    const Layer& last = model.layers.back();
    if (!config.pool_unit && last.op == OpKind::AvgPool) ++lowered;
    if (last.has_weights() && compiler::layer_products(config, model.layers[static_cast<std::size_t>(last.inputs[0])].out.bits, last.weight_bits) > 1) ++packed;
    std::vector<std::uint8_t> dram = program.dram;
    compiler::place_input(program, input, dram);
    sim::Machine machine(config, std::move(dram));
    machine.run(program.code, program.code.size() + 1);
    std::vector<IntTensor> actual;
    for (std::size_t l = 0; l < model.layers.size(); ++l) actual.push_back(compiler::read_tensor(program, l, machine.dram()));
    ASSERT_EQ(first_mismatch(model, expected, actual), "")
        << "trial " << trial << ": " << to_string(model.layers.back().op) << " on " << config.rows << "x" << config.cols << " "
        << config.canonical();
    ++ran;
  }
  EXPECT_GE(ran, 200) << refused << " refused";
  EXPECT_GE(expanded, 20) << "too few models exercised the expand-input pass";
  EXPECT_GE(packed, 20) << "too few layers ran with several products per PE (scalable configurations)";
  EXPECT_GE(lowered, 5) << "too few average poolings ran as convolutions (configurations without a POOL unit)";
  RecordProperty("ran", ran);
  RecordProperty("refused", refused);
}

}  // namespace
}  // namespace faq
