// faq-board MODEL.faq --port /dev/ttyUSB1 [--config FILE] [--baud N] [--program PREFIX]: runs a model on an iCE40
// board (make bitstream: the iCEBreaker or the HX8K breakout board, docs/fpga.md) over its UART: for each test
// vector the DRAM image with the input placed and the program are loaded, the accelerator started and polled, the
// image read back, and every layer compared with the test vector. Verdict line as faqc run; exit 0 bit-exact,
// 1 mismatch or a board that does not answer, 2 bad input.
#include "board_client.h"
#include "passes.h"

#include "faq/error.h"
#include "faq/faq_file.h"
#include "faq/reference.h"

#include <CLI/CLI.hpp>
#include <fmt/format.h>

#include <stdexcept>

int main(int argc, char** argv) {
  CLI::App app{"faq-board: run a model on an iCE40 board (make bitstream) over its UART and compare every layer"};
  std::string model_path, port, config_name = "fpga/configs/ice40_4x2.json", program_prefix;
  int baud = 115200, max_polls = 100000;
  app.add_option("model", model_path, "the .faq model (with test vectors)")->required();
  app.add_option("--port", port, "the board's serial port (the second FTDI channel of the iCEBreaker or the HX8K breakout board, e.g. /dev/ttyUSB1)")->required();
  app.add_option("--config", config_name, "the configuration the bitstream was built for (HX8K: fpga/configs/hx8k_20x2.json)")->capture_default_str();
  app.add_option("--baud", baud, "the board's UART rate (faq_board.v's BAUD)")->capture_default_str();
  app.add_option("--program", program_prefix, "run PREFIX.prog and PREFIX.dram of an earlier faqc compile");
  app.add_option("--max-polls", max_polls, "status polls (5 ms apart) before giving up")->capture_default_str()->check(CLI::Range(1, 100000000));
  CLI11_PARSE(app, argc, argv);
  try {
    const faq::AcceleratorConfig config = faq::AcceleratorConfig::load(config_name);
    const faq::Model model = faq::read_faq(model_path);
    if (model.test_vectors.empty()) faq::fail_input("{}: the model has no test vectors to compare with", model_path);
    auto program = faq::compiler::compile(model, config);
    if (!program_prefix.empty()) faq::compiler::load_program_files(program, program_prefix, config, model_path);
    faq::board::SerialPort serial(port, baud);
    faq::board::Client client(serial);
    bool exact = true;
    for (std::size_t t = 0; t < model.test_vectors.size(); ++t) {
      auto expected = model.test_vectors[t].outputs;
      expected[0] = faq::compiler::stored_input(program, expected[0]);
      std::vector<std::uint8_t> dram = program.dram;
      faq::compiler::place_input(program, model.test_vectors[t].outputs[0], dram);
      const faq::board::Run run = client.run(program.code, dram, config.dram_bytes(), max_polls);
      if (run.status.error) {
        fmt::print("bit-exact: NO, test vector {}: the accelerator stopped on an unknown opcode\n", t);
        return 1;
      }
      std::vector<faq::IntTensor> actual;
      for (std::size_t l = 0; l < model.layers.size(); ++l) actual.push_back(faq::compiler::read_tensor(program, l, run.dram));
      const std::string mismatch = faq::first_mismatch(model, expected, actual);
      fmt::print("test vector {}: {} cycles on the board{}\n", t, run.status.cycles, mismatch.empty() ? "" : ": " + mismatch);
      exact = exact && mismatch.empty();
    }
    fmt::print("bit-exact: {}\n", exact ? fmt::format("{}/{} layers", model.layers.size(), model.layers.size()) : "NO");
    return exact ? 0 : 1;
  } catch (const faq::InputError& e) {
    fmt::print(stderr, "faq-board: {}\n", e.what());
    return 2;
  } catch (const std::exception& e) {
    fmt::print(stderr, "faq-board: {}\n", e.what());
    return 1;
  }
}
