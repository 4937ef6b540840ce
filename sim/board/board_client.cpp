// The host's side of the board's UART protocol (board_client.h).
#include "board_client.h"

#include "faq/error.h"

#include <fmt/format.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <fcntl.h>
#include <poll.h>
#include <stdexcept>
#include <termios.h>
#include <thread>
#include <unistd.h>

namespace faq::board {

namespace {
constexpr std::size_t kMaxCount = 0xffff;  // a command's 16-bit count
}

void Client::command(char letter, std::uint32_t address, std::uint32_t count) {
  for (std::uint32_t byte : {static_cast<std::uint32_t>(letter), address >> 16, address >> 8, address, count >> 8, count})
    t_.send(static_cast<std::uint8_t>(byte));
}

void Client::expect_ack(char letter) {
  const std::uint8_t answer = t_.receive();
  if (answer != 'K') throw std::runtime_error(fmt::format("the board answered {:#04x} to '{}', not 'K'", answer, letter));
}

void Client::write(std::uint32_t address, std::span<const std::uint8_t> bytes) {
  for (std::size_t at = 0; at < bytes.size(); at += kMaxCount) {
    const std::size_t n = std::min(kMaxCount, bytes.size() - at);
    command('W', address + static_cast<std::uint32_t>(at), static_cast<std::uint32_t>(n));
    for (std::size_t i = 0; i < n; ++i) t_.send(bytes[at + i]);
    expect_ack('W');
  }
}

std::vector<std::uint8_t> Client::read(std::uint32_t address, std::size_t bytes) {
  std::vector<std::uint8_t> out;
  out.reserve(bytes);
  for (std::size_t at = 0; at < bytes; at += kMaxCount) {
    const std::size_t n = std::min(kMaxCount, bytes - at);
    command('R', address + static_cast<std::uint32_t>(at), static_cast<std::uint32_t>(n));
    for (std::size_t i = 0; i < n; ++i) out.push_back(t_.receive());
  }
  return out;
}

void Client::start(std::uint32_t program_address) {
  command('G', program_address, 0);
  expect_ack('G');
}

Status Client::status() {
  command('S', 0, 0);
  const std::uint8_t s = t_.receive();
  Status status{(s & 1) != 0, (s & 2) != 0, (s & 4) != 0, 0};
  for (int i = 0; i < 4; ++i) status.cycles |= std::uint32_t{t_.receive()} << (8 * i);
  return status;
}

Run Client::run(std::span<const isa::Instruction> code, std::span<const std::uint8_t> dram, std::uint64_t memory_bytes, int max_polls) {
  std::vector<std::uint8_t> program;
  for (const auto& i : code) {
    const auto word = isa::encode(i);
    program.insert(program.end(), word.begin(), word.end());
  }
  const std::uint64_t at = program_address(dram.size());
  if (at + program.size() > memory_bytes)
    throw std::runtime_error(fmt::format("a {}-byte DRAM image and a {}-byte program do not fit the board's {} bytes", dram.size(),
                                         program.size(), memory_bytes));
  write(0, dram);
  write(static_cast<std::uint32_t>(at), program);
  start(static_cast<std::uint32_t>(at));
  Run run;
  run.status = status();
  for (int poll = 0; run.status.running && poll < max_polls; ++poll) {
    t_.pause();
    run.status = status();
  }
  if (run.status.running) throw std::runtime_error(fmt::format("the board still runs after {} status polls", max_polls));
  run.dram = read(0, dram.size());
  return run;
}

SerialPort::SerialPort(const std::string& path, int baud) : path_(path) {
  fd_ = ::open(path.c_str(), O_RDWR | O_NOCTTY);
  if (fd_ < 0) fail_input("{}: cannot open the serial port: {}", path, std::strerror(errno));
  termios tio{};
  speed_t speed = 0;
  switch (baud) {
    case 9600: speed = B9600; break;
    case 115200: speed = B115200; break;
    case 230400: speed = B230400; break;
    case 460800: speed = B460800; break;
    case 921600: speed = B921600; break;
    default: ::close(fd_); fail_input("{}: baud rate {} is not one of 9600, 115200, 230400, 460800, 921600", path, baud);
  }
  if (::tcgetattr(fd_, &tio) != 0) {
    ::close(fd_);
    fail_input("{}: not a serial port: {}", path, std::strerror(errno));
  }
  ::cfmakeraw(&tio);
  ::cfsetispeed(&tio, speed);
  ::cfsetospeed(&tio, speed);
  tio.c_cflag |= CLOCAL | CREAD;
  tio.c_cflag &= ~static_cast<tcflag_t>(CSTOPB | CRTSCTS);
  ::tcsetattr(fd_, TCSANOW, &tio);
  ::tcflush(fd_, TCIOFLUSH);
}

SerialPort::~SerialPort() {
  if (fd_ >= 0) ::close(fd_);
}

void SerialPort::send(std::uint8_t byte) {
  if (::write(fd_, &byte, 1) != 1) throw std::runtime_error(fmt::format("{}: write failed: {}", path_, std::strerror(errno)));
}

std::uint8_t SerialPort::receive() {
  pollfd p{fd_, POLLIN, 0};
  if (::poll(&p, 1, 2000) <= 0) throw std::runtime_error(fmt::format("{}: the board did not answer within 2 s", path_));
  std::uint8_t byte = 0;
  if (::read(fd_, &byte, 1) != 1) throw std::runtime_error(fmt::format("{}: read failed: {}", path_, std::strerror(errno)));
  return byte;
}

void SerialPort::pause() { std::this_thread::sleep_for(std::chrono::milliseconds(5)); }

}  // namespace faq::board
