// The iCE40 board top level (fpga/ice40/faq_board.v), Verilated and driven by faq-board's own protocol client
// (sim/board): random layers are loaded, run, polled and read back over the UART as on a board, and every layer
// must equal the reference interpreter's, element for element. The UART runs at 4 clock cycles per bit. Two boards:
// the UP5K's (fpga/configs/ice40_4x2.json, with a model of its SPRAM) and the HX8K's (fpga/configs/hx8k_20x2.json,
// memory in block RAM, digit-serial post-processing lanes).
#include "Vfaq_board_bram_tb.h"
#include "Vfaq_board_tb.h"
#include "board_client.h"
#include "passes.h"
#include "random_case.h"

#include "faq/reference.h"

#include <gtest/gtest.h>

#include <deque>
#include <stdexcept>

namespace faq {
namespace {

constexpr int kBit = 4;  // clock cycles per UART bit (board_tb.v)

// The Verilated board as a transport: sending a byte drives uart_rx for its 10 bits; the board's uart_tx is
// sampled every cycle.
template <class Model, bool kLedActiveLow>
class SimulatedBoard : public board::Transport {
 public:
  SimulatedBoard() {
    m_.uart_rx = 1;
    for (int i = 0; i < 64; ++i) tick();  // the board's reset
  }
  void send(std::uint8_t byte) override {
    const int frame = (1 << 9) | (byte << 1);  // start, 8 data bits from bit 0, stop
    for (int b = 0; b < 10; ++b) {
      m_.uart_rx = (frame >> b) & 1;
      for (int i = 0; i < kBit; ++i) tick();
    }
  }
  std::uint8_t receive() override {
    for (std::uint64_t i = 0; received_.empty(); ++i) {
      if (i > 1'000'000) throw std::runtime_error("the board did not answer");
      tick();
    }
    const std::uint8_t byte = received_.front();
    received_.pop_front();
    return byte;
  }
  void pause() override {
    for (int i = 0; i < 2000; ++i) tick();
  }
  bool green() const { return (m_.led_done != 0) != kLedActiveLow; }

 private:
  void tick() {
    m_.clk = 0;
    m_.eval();
    m_.clk = 1;
    m_.eval();
    // the host's receiver: a start bit, then the middle of each bit
    if (rx_count_ == 0) {
      if (m_.uart_tx == 0) rx_count_ = 1, rx_timer_ = kBit / 2;
    } else if (--rx_timer_ == 0) {
      rx_timer_ = kBit;
      if (rx_count_ >= 2 && rx_count_ <= 9) rx_byte_ = static_cast<std::uint8_t>((rx_byte_ >> 1) | (m_.uart_tx << 7));
      if (rx_count_ == 10) {
        if (m_.uart_tx == 1) received_.push_back(rx_byte_);
        rx_count_ = 0;
      } else {
        ++rx_count_;
      }
    }
  }

  Model m_;
  int rx_count_ = 0, rx_timer_ = 0;
  std::uint8_t rx_byte_ = 0;
  std::deque<std::uint8_t> received_;
};

using Up5kBoard = SimulatedBoard<Vfaq_board_tb, true>;
using Hx8kBoard = SimulatedBoard<Vfaq_board_bram_tb, false>;

template <class Board>
void run_random_layers(const char* config_file, std::uint64_t seed) {
  const AcceleratorConfig config = AcceleratorConfig::load(config_file);
  testing::Rng rng(seed);
  Board sim;
  board::Client client(sim);
  int ran = 0;
  for (int trial = 0; trial < 100 && ran < 4; ++trial) {
    auto c = testing::random_case(rng, config);
    if (!c) continue;
    const std::uint64_t program_bytes = c->program.code.size() * sizeof(isa::Word);
    if (board::program_address(c->dram.size()) + program_bytes > config.dram_bytes()) continue;  // beyond the board's memory
    const board::Run run = client.run(c->program.code, c->dram, config.dram_bytes(), 1000);
    ASSERT_TRUE(run.status.done && !run.status.running) << "trial " << trial << ": no done";
    ASSERT_FALSE(run.status.error) << "trial " << trial;
    EXPECT_TRUE(sim.green());
    EXPECT_GT(run.status.cycles, 0u);
    std::vector<IntTensor> actual;
    for (std::size_t l = 0; l < c->model.layers.size(); ++l) actual.push_back(compiler::read_tensor(c->program, l, run.dram));
    ASSERT_EQ(first_mismatch(c->model, c->expected, actual), "") << "trial " << trial << ": " << to_string(c->model.layers.back().op);
    ++ran;
  }
  EXPECT_EQ(ran, 4);
}

TEST(Board, Ice40RandomLayersOverTheUart) { run_random_layers<Up5kBoard>(FAQ_ICE40_4X2, 21); }
TEST(Board, Hx8kRandomLayersOverTheUart) { run_random_layers<Hx8kBoard>(FAQ_HX8K_20X2, 22); }

// An unknown opcode (POOL: this configuration has no POOL unit) stops the board with its error flag and the red LED.
TEST(Board, UnknownOpcodeRaisesTheErrorFlag) {
  Up5kBoard sim;
  board::Client client(sim);
  const std::vector<isa::Instruction> code = {isa::Instruction(isa::Opcode::Pool), isa::Instruction(isa::Opcode::Halt)};
  const std::vector<std::uint8_t> dram(64, 0);
  const board::Run run = client.run(code, dram, std::uint64_t{1} << 17, 100);
  EXPECT_TRUE(run.status.done);
  EXPECT_TRUE(run.status.error);
  EXPECT_FALSE(sim.green());
}

}  // namespace
}  // namespace faq
