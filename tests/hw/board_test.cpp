// The iCE40 board top level (fpga/ice40/faq_board.v) with the 2x2 iCE40 configuration, Verilated with a model of
// the UP5K's SPRAM and driven by faq-board's own protocol client (sim/board): random layers are loaded, run,
// polled and read back over the UART as on a board, and every layer must equal the reference interpreter's,
// element for element. The UART runs at 4 clock cycles per bit.
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
  bool green() const { return m_.led_green_n == 0; }

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

  Vfaq_board_tb m_;
  int rx_count_ = 0, rx_timer_ = 0;
  std::uint8_t rx_byte_ = 0;
  std::deque<std::uint8_t> received_;
};

TEST(Board, Ice40RandomLayersOverTheUart) {
  const AcceleratorConfig config = AcceleratorConfig::load(FAQ_ICE40_2X2);
  testing::Rng rng(21);
  SimulatedBoard sim;
  board::Client client(sim);
  int ran = 0;
  for (int trial = 0; trial < 100 && ran < 4; ++trial) {
    auto c = testing::random_case(rng, config);
    if (!c) continue;
    const std::uint64_t program_bytes = c->program.code.size() * sizeof(isa::Word);
    if (board::program_address(c->dram.size()) + program_bytes > config.dram_bytes()) continue;  // beyond the board's 128 KiB
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

// An unknown opcode (POOL: this configuration has no POOL unit) stops the board with its error flag and the red LED.
TEST(Board, UnknownOpcodeRaisesTheErrorFlag) {
  SimulatedBoard sim;
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
