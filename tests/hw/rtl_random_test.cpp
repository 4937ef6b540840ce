// Constrained-random layers on the Verilated accelerator (tiny, default, edge, the iCE40 4x2 and 2x2, the HX8K's 20x2,
// a 4x4 scalable one): each random single-layer model
// (tests/support/random_model.h) is compiled for the preset, run on the RTL through the co-simulation harness and
// compared element by element with the reference interpreter; the run must end (done) and take the cycles the
// cycle model predicts within 5 % (layers of fewer than 200 cycles: within 10 cycles).
#include "Vfaq_accel_default.h"
#include "Vfaq_accel_edge.h"
#include "Vfaq_accel_hx8k_20x2.h"
#include "Vfaq_accel_ice40_2x2.h"
#include "Vfaq_accel_ice40_4x2.h"
#include "Vfaq_accel_tiny_digit_serial.h"
#include "Vfaq_accel_tiny_delay_memory.h"
#include "Vfaq_accel_tiny.h"
#include "Vfaq_accel_tiny_scalable.h"
#include "harness.h"
#include "passes.h"
#include "random_case.h"

#include "faq/reference.h"
#include "faq/sim/cycle_model.h"

#include <gtest/gtest.h>

#include <cmath>
#include <cstdlib>

namespace faq {
namespace {

template <typename Vmodel>
void run_random(const char* preset, std::uint64_t seed, int layers, int imem_latency = 1) {
  const AcceleratorConfig config = AcceleratorConfig::load(preset);
  testing::Rng rng(seed);
  int ran = 0, refused = 0;
  std::uint64_t total_cycles = 0;
  for (int trial = 0; trial < 20 * layers && ran < layers; ++trial) {
    auto c = testing::random_case(rng, config);
    if (!c) {
      ++refused;
      continue;
    }
    const Model& model = c->model;
    const compiler::Program& program = c->program;
    const auto& expected = c->expected;
    std::vector<std::uint8_t>& dram = c->dram;
    const auto timing = sim::time_layers(program.code, program.layer_first, config);
    std::uint64_t predicted = 0;
    for (const auto& l : timing) predicted += l.cycles;
    Vmodel m;
    const auto run = rtl::simulate(m, program.code, dram, config.mem_port_bits / 8, sim::TimingOptions{}.mem_latency,
                                   4 * imem_latency * predicted + 10000, {}, imem_latency);
    ASSERT_TRUE(run.done) << preset << " trial " << trial << ": no done after " << run.cycles << " cycles";
    ASSERT_FALSE(run.error) << preset << " trial " << trial;
    std::vector<IntTensor> actual;
    for (std::size_t l = 0; l < model.layers.size(); ++l) actual.push_back(compiler::read_tensor(program, l, dram));
    ASSERT_EQ(first_mismatch(model, expected, actual), "") << preset << " trial " << trial << ": " << to_string(model.layers.back().op);
    // run.cycles counts from start to done; the model's layers end where HALT issues
    const double rtl = static_cast<double>(run.cycles), mod = static_cast<double>(predicted);
    // the cycle model assumes instructions a cycle after their request; a slower port only delays
    if (imem_latency > 1) EXPECT_GE(rtl, mod) << preset << " trial " << trial;
    else EXPECT_TRUE(std::abs(rtl - mod) <= std::max(10.0, 0.05 * mod))
        << preset << " trial " << trial << " (" << to_string(model.layers.back().op) << " " << to_string(model.layers.front().out.shape) << " -> "
        << to_string(model.layers.back().out.shape) << ", kernel " << model.layers.back().kernel_h << " stride " << model.layers.back().stride_h
        << " pad " << model.layers.back().pad_h << ", " << model.layers.front().out.bits << " -> " << model.layers.back().out.bits
        << " bits): RTL " << rtl << " cycles, model " << mod;
    ++ran;
    total_cycles += run.cycles;
  }
  ::testing::Test::RecordProperty("rtl_cycles", static_cast<int>(total_cycles));
  EXPECT_EQ(ran, layers) << refused << " refused";
  ::testing::Test::RecordProperty("ran", ran);
  ::testing::Test::RecordProperty("refused", refused);
}

// FAQ_RTL_RANDOM_SCALE=N runs N times as many layers (scripts/rtl_random.sh: the larger run, not in make test).
int scaled(int layers) {
  const char* scale = std::getenv("FAQ_RTL_RANDOM_SCALE");
  return scale == nullptr ? layers : layers * std::max(1, std::atoi(scale));
}

TEST(RtlRandom, TinyLayersBitExact) { run_random<Vfaq_accel_tiny>("tiny", 7, scaled(60)); }
TEST(RtlRandom, DefaultLayersBitExact) { run_random<Vfaq_accel_default>("default", 8, scaled(40)); }
// edge: 4-bit, one post-processing lane for its 8 columns (a line takes 8 cycles in post-processing)
TEST(RtlRandom, EdgeLayersBitExact) { run_random<Vfaq_accel_edge>("edge", 9, scaled(40)); }
// fpga/configs/ice40_2x2.json: two columns through one post-processing lane (two groups per line), PARAM stored by
// groups and loaded over a 16-bit port
// tests/configs/tiny_scalable.json: precision-scalable PEs, each layer at its own products per cycle (1, 2 or 4)
TEST(RtlRandom, TinyScalableLayersBitExact) { run_random<Vfaq_accel_tiny_scalable>(FAQ_TINY_SCALABLE, 11, scaled(60)); }
TEST(RtlRandom, Ice40TwoByTwoLayersBitExact) { run_random<Vfaq_accel_ice40_2x2>(FAQ_ICE40_2X2, 10, scaled(40)); }
// fpga/configs/ice40_4x2.json (the UP5K bitstream's): the same with four rows
TEST(RtlRandom, Ice40FourByTwoLayersBitExact) { run_random<Vfaq_accel_ice40_4x2>(FAQ_ICE40_4X2, 15, scaled(40)); }
// an instruction port answering 5 cycles after each request (a board fetching from its one memory): same results
TEST(RtlRandom, SlowInstructionPortLayersBitExact) { run_random<Vfaq_accel_ice40_2x2>(FAQ_ICE40_2X2, 12, scaled(30), 5); }
// fpga/configs/hx8k_20x2.json: adder-tree columns of Booth PEs, a digit-serial lane (post_mult_cycles 8: a line takes 2 x 8 cycles in it), 4 KiB DRAM
// tests/configs/tiny_digit_serial.json: a lane per column, 2 cycles per element (a line waits in the lanes' register)
TEST(RtlRandom, TinyDigitSerialLayersBitExact) { run_random<Vfaq_accel_tiny_digit_serial>(FAQ_TINY_DIGIT_SERIAL, 14, scaled(40)); }
// tests/configs/tiny_delay_memory.json: tiny with its delay lines in memory (delay_memory), the POOL unit's raw values too
TEST(RtlRandom, TinyDelayMemoryLayersBitExact) { run_random<Vfaq_accel_tiny_delay_memory>(FAQ_TINY_DELAY_MEMORY, 16, scaled(40)); }
TEST(RtlRandom, Hx8kTwentyByTwoLayersBitExact) { run_random<Vfaq_accel_hx8k_20x2>(FAQ_HX8K_20X2, 13, scaled(40)); }

}  // namespace
}  // namespace faq
namespace faq {
namespace {

// CONFIG, `n` POOLs (1 x `pixels`, kernel 1) or VADDs (`pixels` lines) back to back, HALT: (RTL - cycle model) cycles.
long st_timing_error(bool pool, int n, int pixels) {
  const AcceleratorConfig config = AcceleratorConfig::load("tiny");
  std::vector<isa::Instruction> code(1, isa::Instruction(isa::Opcode::Config));
  using F = isa::Config;
  for (int f : {F::in_bits, F::weight_bits, F::out_bits, F::res_bits, F::out_range_bits}) code[0][f] = 8;
  code[0][F::in_pixel_stride] = code[0][F::out_pixel_stride] = 4;
  for (int k = 0; k < n; ++k) {
    isa::Instruction i(pool ? isa::Opcode::Pool : isa::Opcode::Vadd);
    if (pool) {
      i[isa::Pool::src_addr] = static_cast<std::uint64_t>(4 * k);
      i[isa::Pool::dst_addr] = static_cast<std::uint64_t>(1024 + 4 * k);
      i[isa::Pool::in_h] = i[isa::Pool::out_h] = 1;
      i[isa::Pool::in_w] = i[isa::Pool::out_w] = static_cast<std::uint64_t>(pixels);
      i[isa::Pool::kernel] = i[isa::Pool::stride] = 1;
    } else {
      i[isa::Vadd::a_addr] = static_cast<std::uint64_t>(4 * k);
      i[isa::Vadd::b_addr] = 512;
      i[isa::Vadd::out_addr] = static_cast<std::uint64_t>(1024 + 4 * k);
      i[isa::Vadd::count] = static_cast<std::uint64_t>(pixels);
    }
    code.push_back(i);
  }
  code.emplace_back(isa::Opcode::Halt);
  std::vector<std::uint8_t> dram(4096, 0);
  Vfaq_accel_tiny m;
  const auto run = rtl::simulate(m, code, dram, config.mem_port_bits / 8, sim::TimingOptions{}.mem_latency, 100000);
  EXPECT_TRUE(run.done);
  return static_cast<long>(run.cycles) - static_cast<long>(sim::time_layers(code, std::vector<std::size_t>{0}, config)[0].cycles);
}

// VADD and POOL instructions following each other on ST take the cycles the cycle model says: the difference between
// RTL and model (start-up and done counting) does not grow with their number.
TEST(RtlTiming, BackToBackVaddAndPoolMatchTheCycleModel) {
  for (bool pool : {false, true})
    for (int pixels : {1, 4}) EXPECT_EQ(st_timing_error(pool, 8, pixels), st_timing_error(pool, 1, pixels)) << (pool ? "POOL" : "VADD") << " x" << pixels;
}

}  // namespace
}  // namespace faq
