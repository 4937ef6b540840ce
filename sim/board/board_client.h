// The host's side of the iCE40 board's UART protocol (fpga/ice40/faq_board.v, docs/fpga.md): every command is a
// letter, a 24-bit address and a 16-bit count (big endian); W writes bytes (answer 'K'), R reads them, G starts the
// accelerator on the program at an address (answer 'K'), S answers the status byte and the last run's cycles.
// The transport is a serial port on a board, or the Verilated board top level in the tests.
#pragma once

#include "faq/isa.h"

#include <cstdint>
#include <span>
#include <string>
#include <vector>

namespace faq::board {

class Transport {
 public:
  virtual ~Transport() = default;
  virtual void send(std::uint8_t byte) = 0;
  virtual std::uint8_t receive() = 0;  // throws std::runtime_error when nothing comes
  virtual void pause() = 0;            // between status polls: a few milliseconds, or simulated cycles
};

struct Status {
  bool running = false, done = false, error = false;
  std::uint32_t cycles = 0;  // of the last run, at the board's clock
};

// The board's memory holds the DRAM image at 0 and the program after it, 16-byte aligned.
inline std::uint64_t program_address(std::uint64_t dram_bytes) { return (dram_bytes + 15) / 16 * 16; }

struct Run {
  Status status;
  std::vector<std::uint8_t> dram;  // the DRAM image read back
};

class Client {
 public:
  explicit Client(Transport& transport) : t_(transport) {}
  void write(std::uint32_t address, std::span<const std::uint8_t> bytes);
  std::vector<std::uint8_t> read(std::uint32_t address, std::size_t bytes);
  void start(std::uint32_t program_address);
  Status status();
  // Loads the DRAM image at 0 and the program after it (16-byte aligned), starts it, polls until it stops (at most
  // max_polls times) and reads the image back. Throws std::runtime_error when the board does not finish or both do
  // not fit its memory of `memory_bytes`.
  Run run(std::span<const isa::Instruction> code, std::span<const std::uint8_t> dram, std::uint64_t memory_bytes, int max_polls);

 private:
  void command(char letter, std::uint32_t address, std::uint32_t count);
  void expect_ack(char letter);
  Transport& t_;
};

// A serial port (POSIX termios), 8N1 at `baud`. Throws faq::InputError naming the port when it cannot be opened.
class SerialPort : public Transport {
 public:
  SerialPort(const std::string& path, int baud);
  ~SerialPort() override;
  SerialPort(const SerialPort&) = delete;
  SerialPort& operator=(const SerialPort&) = delete;
  void send(std::uint8_t byte) override;
  std::uint8_t receive() override;
  void pause() override;

 private:
  std::string path_;
  int fd_ = -1;
};

}  // namespace faq::board
