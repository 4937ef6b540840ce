// The iCE40 board top level (fpga/ice40/faq_board.v) with the 2x2 iCE40 configuration, Verilated with a model of
// the UP5K's SPRAM: a host on the UART loads the DRAM image and the program of random layers, starts the
// accelerator, polls its status and reads the memory back, as scripts/board_run.py does on a board; every layer
// must equal the reference interpreter's, element for element. The UART runs at 4 clock cycles per bit.
#include "Vfaq_board_tb.h"
#include "faq/isa.h"
#include "faq/reference.h"
#include "passes.h"
#include "random_case.h"

#include <gtest/gtest.h>

#include <deque>
#include <span>
#include <stdexcept>

namespace faq {
namespace {

constexpr int kBit = 4;  // clock cycles per UART bit (board_tb.v)

class Host {
 public:
  Host() {
    m_.uart_rx = 1;
    for (int i = 0; i < 64; ++i) tick();  // the board's reset
  }

  void send(std::uint8_t byte) {
    const int frame = (1 << 9) | (byte << 1);  // start, 8 data bits from bit 0, stop
    for (int b = 0; b < 10; ++b) {
      m_.uart_rx = (frame >> b) & 1;
      for (int i = 0; i < kBit; ++i) tick();
    }
  }

  void command(char letter, std::uint32_t address, std::uint32_t count) {
    for (std::uint8_t byte : {static_cast<std::uint8_t>(letter), static_cast<std::uint8_t>(address >> 16), static_cast<std::uint8_t>(address >> 8),
                              static_cast<std::uint8_t>(address), static_cast<std::uint8_t>(count >> 8), static_cast<std::uint8_t>(count)})
      send(byte);
  }

  std::uint8_t receive() {
    for (std::uint64_t i = 0; received_.empty(); ++i) {
      if (i > 1'000'000) throw std::runtime_error("the board did not answer");
      tick();
    }
    const std::uint8_t byte = received_.front();
    received_.pop_front();
    return byte;
  }

  void write(std::uint32_t address, std::span<const std::uint8_t> bytes) {
    for (std::size_t at = 0; at < bytes.size(); at += 0xffff) {
      const std::size_t n = std::min<std::size_t>(0xffff, bytes.size() - at);
      command('W', address + static_cast<std::uint32_t>(at), static_cast<std::uint32_t>(n));
      for (std::size_t i = 0; i < n; ++i) send(bytes[at + i]);
      EXPECT_EQ(receive(), 'K');
    }
  }

  std::vector<std::uint8_t> read(std::uint32_t address, std::size_t bytes) {
    std::vector<std::uint8_t> out;
    for (std::size_t at = 0; at < bytes; at += 0xffff) {
      const std::size_t n = std::min<std::size_t>(0xffff, bytes - at);
      command('R', address + static_cast<std::uint32_t>(at), static_cast<std::uint32_t>(n));
      for (std::size_t i = 0; i < n; ++i) out.push_back(receive());
    }
    return out;
  }

  struct Status {
    bool running, done, error;
    std::uint32_t cycles;
  };
  Status status() {
    command('S', 0, 0);
    const std::uint8_t s = receive();
    std::uint32_t cycles = 0;
    for (int i = 0; i < 4; ++i) cycles |= std::uint32_t{receive()} << (8 * i);
    return {(s & 1) != 0, (s & 2) != 0, (s & 4) != 0, cycles};
  }

  void run_idle(std::uint64_t cycles) {
    for (std::uint64_t i = 0; i < cycles; ++i) tick();
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
  Host host;
  int ran = 0;
  for (int trial = 0; trial < 100 && ran < 4; ++trial) {
    auto c = testing::random_case(rng, config);
    if (!c) continue;
    std::vector<std::uint8_t> program;
    for (const auto& i : c->program.code) {
      const auto w = isa::encode(i);
      program.insert(program.end(), w.begin(), w.end());
    }
    const std::uint32_t at = static_cast<std::uint32_t>((c->dram.size() + 15) / 16 * 16);
    if (at + program.size() > config.dram_bytes()) continue;
    host.write(0, c->dram);
    host.write(at, program);
    host.command('G', at, 0);
    ASSERT_EQ(host.receive(), 'K');
    auto s = host.status();
    for (int poll = 0; s.running && poll < 1000; ++poll) {
      host.run_idle(2000);
      s = host.status();
    }
    ASSERT_TRUE(s.done && !s.running) << "trial " << trial << ": no done";
    ASSERT_FALSE(s.error) << "trial " << trial;
    EXPECT_TRUE(host.green());
    EXPECT_GT(s.cycles, 0u);
    const std::vector<std::uint8_t> back = host.read(0, c->dram.size());
    std::vector<IntTensor> actual;
    for (std::size_t l = 0; l < c->model.layers.size(); ++l) actual.push_back(compiler::read_tensor(c->program, l, back));
    ASSERT_EQ(first_mismatch(c->model, c->expected, actual), "") << "trial " << trial << ": " << to_string(c->model.layers.back().op);
    ++ran;
  }
  EXPECT_EQ(ran, 4);
}

}  // namespace
}  // namespace faq
