// faq-sc-<preset> MODEL.faq [--latency-ns N] [--bytes-per-ns B] [--clock-ns T]: the Verilated accelerator as a
// SystemC module, its memory channels bridged to a TLM-2.0 DRAM target of configurable latency and bandwidth. The
// accelerator runs each test vector's program; every layer is compared with the test vectors, and the per-layer
// cycles are printed next to the cycle model's (which assumes a fixed latency and a port-rate memory), so a run
// shows how DRAM speed changes them. Exit 0 bit-exact, 1 mismatch or hang, 2 bad input.
#include FAQ_SC_VHEADER

#include "passes.h"

#include "faq/error.h"
#include "faq/faq_file.h"
#include "faq/reference.h"
#include "faq/sim/cycle_model.h"

#include <CLI/CLI.hpp>
#include <fmt/format.h>
#include <systemc>
#include <tlm>
#include <tlm_utils/simple_initiator_socket.h>
#include <tlm_utils/simple_target_socket.h>

#include <array>
#include <cmath>
#include <deque>
#include <type_traits>

using namespace sc_core;

namespace {

// The memory channels' data ports: uint64_t up to 64 bits, sc_bv beyond (Verilator's SystemC port types).
constexpr int kPortBytes = FAQ_PORT_BYTES;
using PortData = std::conditional_t<(kPortBytes <= 8), std::uint64_t, sc_dt::sc_bv<8 * kPortBytes>>;
using Bytes = std::array<std::uint8_t, kPortBytes>;

template <typename D = PortData>  // a template, so that the branch for the other port type is discarded
D to_port(const Bytes& b) {
  D d{};
  if constexpr (std::is_integral_v<D>) {
    for (int i = 0; i < kPortBytes; ++i) d |= static_cast<std::uint64_t>(b[static_cast<std::size_t>(i)]) << (8 * i);
  } else {
    for (int i = 0; i < kPortBytes; ++i) d.range(8 * i + 7, 8 * i) = b[static_cast<std::size_t>(i)];
  }
  return d;
}

template <typename D = PortData>
Bytes from_port(const D& d) {
  Bytes b{};
  for (int i = 0; i < kPortBytes; ++i) {
    if constexpr (std::is_integral_v<D>) {
      b[static_cast<std::size_t>(i)] = static_cast<std::uint8_t>(d >> (8 * i));
    } else {
      b[static_cast<std::size_t>(i)] = static_cast<std::uint8_t>(d.range(8 * i + 7, 8 * i).to_uint());
    }
  }
  return b;
}

// DRAM: every transaction occupies the interface for len / bandwidth, transactions are served in arrival order,
// and read data returns `latency` after the transfer.
struct Dram : sc_module {
  tlm_utils::simple_target_socket<Dram> socket{"socket"};
  std::vector<std::uint8_t>& mem;
  sc_time latency;
  double bytes_per_ns;
  sc_time free_at = SC_ZERO_TIME;
  std::string fault;

  Dram(sc_module_name name, std::vector<std::uint8_t>& memory, sc_time lat, double bandwidth)
      : sc_module(name), mem(memory), latency(lat), bytes_per_ns(bandwidth) {
    socket.register_b_transport(this, &Dram::b_transport);
  }

  void b_transport(tlm::tlm_generic_payload& p, sc_time& delay) {
    const sc_time arrival = sc_time_stamp() + delay;
    const sc_time start = std::max(arrival, free_at);
    const sc_time transfer(static_cast<double>(p.get_data_length()) / bytes_per_ns, SC_NS);
    free_at = start + transfer;
    const std::uint64_t a = p.get_address();
    unsigned char* data = p.get_data_ptr();
    const unsigned char* enable = p.get_byte_enable_ptr();
    for (unsigned i = 0; i < p.get_data_length(); ++i) {
      const std::uint64_t at = a + i;
      if (p.is_read()) {
        data[i] = at < mem.size() ? mem[at] : 0;
      } else if (enable == nullptr || enable[i] == TLM_BYTE_ENABLED) {
        if (at >= mem.size()) {
          fault = fmt::format("the accelerator wrote outside DRAM at {:#x}", at);
          continue;
        }
        mem[at] = data[i];
      }
    }
    delay = start + transfer + (p.is_read() ? latency : SC_ZERO_TIME) - sc_time_stamp();
    p.set_response_status(tlm::TLM_OK_RESPONSE);
  }
};

// The accelerator's channels to TLM: at each falling edge it presents this cycle's inputs (the instruction
// fetched last cycle, the read response now due) and turns this cycle's requests into transactions.
struct Bridge : sc_module {
  tlm_utils::simple_initiator_socket<Bridge> socket{"socket"};
  sc_in<bool> clk{"clk"};
  sc_in<bool> imem_req{"imem_req"}, rd_req{"rd_req"}, wr_req{"wr_req"}, done{"done"};
  sc_in<std::uint32_t> imem_addr{"imem_addr"}, rd_addr{"rd_addr"}, wr_addr{"wr_addr"}, wr_strb{"wr_strb"}, perf_configs{"perf_configs"};
  sc_in<PortData> wr_data{"wr_data"};
  sc_out<bool> imem_valid{"imem_valid"}, rd_valid{"rd_valid"};
  sc_out<sc_dt::sc_bv<128>> imem_data{"imem_data"};
  sc_out<PortData> rd_data{"rd_data"};
  const std::vector<std::uint8_t>& imem;
  sc_time period;
  std::uint64_t cycle = 0, end_cycle = 0, limit;
  std::vector<std::uint64_t> config_cycles;
  bool finished = false;
  struct Pending {
    sc_time due;
    PortData data;
  };
  std::deque<Pending> reads;
  bool fetched = false;
  std::uint32_t fetch_addr = 0, configs = 0;

  SC_HAS_PROCESS(Bridge);
  Bridge(sc_module_name name, const std::vector<std::uint8_t>& program, sc_time clock, std::uint64_t max_cycles)
      : sc_module(name), imem(program), period(clock), limit(max_cycles) {
    SC_METHOD(step);
    sensitive << clk.neg();
    dont_initialize();
  }

  void step() {
    imem_valid.write(fetched);
    if (fetched) {
      sc_dt::sc_bv<128> word;
      for (int i = 0; i < 16; ++i) {
        const std::uint32_t a = fetch_addr + static_cast<std::uint32_t>(i);
        word.range(8 * i + 7, 8 * i) = a < imem.size() ? imem[a] : 0;
      }
      imem_data.write(word);
    }
    const bool due = !reads.empty() && reads.front().due <= sc_time_stamp();
    rd_valid.write(due);
    if (due) {
      rd_data.write(reads.front().data);
      reads.pop_front();
    }
    fetched = imem_req.read();
    fetch_addr = imem_addr.read();
    if (rd_req.read()) {
      Bytes data{};
      tlm::tlm_generic_payload p;
      sc_time delay = SC_ZERO_TIME;
      p.set_command(tlm::TLM_READ_COMMAND);
      p.set_address(rd_addr.read());
      p.set_data_ptr(data.data());
      p.set_data_length(kPortBytes);
      socket->b_transport(p, delay);
      // the response is presented at the first falling edge at or after its arrival, in request order
      const sc_time arrival = sc_time_stamp() + std::max(delay, period);
      reads.push_back({reads.empty() ? arrival : std::max(arrival, reads.back().due), to_port(data)});
    }
    if (wr_req.read()) {
      Bytes data = from_port(wr_data.read());
      unsigned char enable[kPortBytes];
      for (int i = 0; i < kPortBytes; ++i) enable[i] = ((wr_strb.read() >> i) & 1U) != 0 ? TLM_BYTE_ENABLED : TLM_BYTE_DISABLED;
      tlm::tlm_generic_payload p;
      sc_time delay = SC_ZERO_TIME;
      p.set_command(tlm::TLM_WRITE_COMMAND);
      p.set_address(wr_addr.read());
      p.set_data_ptr(data.data());
      p.set_data_length(kPortBytes);
      p.set_byte_enable_ptr(enable);
      p.set_byte_enable_length(kPortBytes);
      socket->b_transport(p, delay);
    }
    if (perf_configs.read() != configs) {
      configs = perf_configs.read();
      config_cycles.push_back(cycle - 1);
    }
    if (done.read() || cycle >= limit) {
      finished = done.read();
      end_cycle = cycle;
      sc_stop();
    }
    ++cycle;
  }
};

}  // namespace

int sc_main(int argc, char** argv) {
  CLI::App app{fmt::format("faq-sc-{}: the accelerator ({}) in SystemC with a TLM-2.0 DRAM of given latency and bandwidth", FAQ_PRESET, FAQ_PRESET)};
  std::string model_path;
  double latency_ns = 20, bandwidth = 8, clock_ns = 1;
  app.add_option("model", model_path, "the .faq model (with test vectors)")->required();
  app.add_option("--latency-ns", latency_ns, "DRAM read latency")->capture_default_str()->check(CLI::Range(0.0, 1e6));
  app.add_option("--bytes-per-ns", bandwidth, "DRAM bandwidth, shared by reads and writes")->capture_default_str()->check(CLI::Range(0.01, 1e6));
  app.add_option("--clock-ns", clock_ns, "accelerator clock period")->capture_default_str()->check(CLI::Range(0.01, 1e6));
  try {
    app.parse(argc, argv);
  } catch (const CLI::Success& e) {
    return app.exit(e);
  } catch (const CLI::ParseError& e) {
    fmt::print(stderr, "faq-sc-{}: {}\n", FAQ_PRESET, e.what());
    return faq::kExitBadInput;
  }
  try {
    const faq::Model model = faq::read_faq(model_path);
    if (model.test_vectors.empty()) faq::fail_input("{}: the model has no test vectors to compare with", model_path);
    const auto config = faq::AcceleratorConfig::load(FAQ_PRESET);
    if (config.mem_port_bits != 8 * kPortBytes) throw std::logic_error("the bridge was built for another port width");
    const auto program = faq::compiler::compile(model, config);
    const auto latency_cycles = static_cast<int>(std::ceil(latency_ns / clock_ns));
    const auto timing = faq::sim::time_layers(program.code, program.layer_first, config, {.mem_latency = std::max(1, latency_cycles)});
    std::uint64_t model_cycles = 0;
    for (const auto& l : timing) model_cycles += l.cycles;
    std::vector<std::uint8_t> imem;
    for (const auto& i : program.code) {
      const auto w = faq::isa::encode(i);
      imem.insert(imem.end(), w.begin(), w.end());
    }
    auto expected = model.test_vectors[0].outputs;
    expected[0] = faq::compiler::stored_input(program, expected[0]);
    std::vector<std::uint8_t> dram = program.dram;
    faq::compiler::place_input(program, model.test_vectors[0].outputs[0], dram);

    const sc_time period(clock_ns, SC_NS);
    sc_clock clk("clk", period);
    sc_signal<bool> rst("rst"), start("start"), done("done"), error("error"), imem_req("imem_req"), imem_valid("imem_valid"), rd_req("rd_req"),
        rd_ready("rd_ready"), rd_valid("rd_valid"), wr_req("wr_req"), wr_ready("wr_ready");
    sc_signal<std::uint32_t> prog_addr("prog_addr"), imem_addr("imem_addr"), rd_addr("rd_addr"), wr_addr("wr_addr"), wr_strb("wr_strb"),
        perf_configs("perf_configs");
    sc_signal<PortData> rd_data("rd_data"), wr_data("wr_data");
    sc_signal<std::uint64_t> perf_cycles("perf_cycles"), perf_stall("perf_stall"), perf_lines("perf_lines"),
        perf_mem("perf_mem");
    sc_signal<sc_dt::sc_bv<128>> imem_data("imem_data"), perf_busy("perf_busy"), perf_unit_stall("perf_unit_stall");
    sc_signal<sc_dt::sc_bv<256>> perf_buf("perf_buf");
    FAQ_SC_VMODEL accel("accel");
    accel.clk(clk);
    accel.rst(rst);
    accel.start(start);
    accel.prog_addr(prog_addr);
    accel.done(done);
    accel.error(error);
    accel.imem_req(imem_req);
    accel.imem_addr(imem_addr);
    accel.imem_valid(imem_valid);
    accel.imem_data(imem_data);
    accel.rd_req(rd_req);
    accel.rd_addr(rd_addr);
    accel.rd_ready(rd_ready);
    accel.rd_valid(rd_valid);
    accel.rd_data(rd_data);
    accel.wr_req(wr_req);
    accel.wr_addr(wr_addr);
    accel.wr_data(wr_data);
    accel.wr_strb(wr_strb);
    accel.wr_ready(wr_ready);
    accel.perf_cycles(perf_cycles);
    accel.perf_stall(perf_stall);
    accel.perf_busy(perf_busy);
    accel.perf_configs(perf_configs);
    accel.perf_lines(perf_lines);
    accel.perf_mem(perf_mem);
    accel.perf_unit_stall(perf_unit_stall);
    accel.perf_buf(perf_buf);
    Dram dram_target("dram", dram, sc_time(latency_ns, SC_NS), bandwidth);
    Bridge bridge("bridge", imem, period, 20 * model_cycles + 100000);
    bridge.socket.bind(dram_target.socket);
    bridge.clk(clk);
    bridge.imem_req(imem_req);
    bridge.rd_req(rd_req);
    bridge.wr_req(wr_req);
    bridge.done(done);
    bridge.imem_addr(imem_addr);
    bridge.rd_addr(rd_addr);
    bridge.wr_addr(wr_addr);
    bridge.wr_strb(wr_strb);
    bridge.perf_configs(perf_configs);
    bridge.wr_data(wr_data);
    bridge.imem_valid(imem_valid);
    bridge.rd_valid(rd_valid);
    bridge.imem_data(imem_data);
    bridge.rd_data(rd_data);
    rd_ready.write(true);
    wr_ready.write(true);
    rst.write(true);
    sc_start(2 * period);
    rst.write(false);
    start.write(true);
    sc_start(period);
    start.write(false);
    bridge.cycle = 0;
    sc_start();
    if (!dram_target.fault.empty()) faq::fail_input("{}", dram_target.fault);
    if (!bridge.finished) {
      fmt::print("bit-exact: NO: no done within {} cycles (the cycle model expects {})\n", bridge.end_cycle, model_cycles);
      return faq::kExitInternal;
    }
    std::vector<faq::IntTensor> actual;
    for (std::size_t l = 0; l < model.layers.size(); ++l) actual.push_back(faq::compiler::read_tensor(program, l, dram));
    const std::string mismatch = faq::first_mismatch(model, expected, actual);
    if (!mismatch.empty()) {
      fmt::print("bit-exact: NO, test vector 0: {}\n", mismatch);
      return faq::kExitInternal;
    }
    fmt::print("{:<24} {:>12} {:>12} {:>8}\n", "layer", "SystemC", "cycle model", "ratio");
    std::size_t k = 0;
    for (std::size_t l = 0; l < model.layers.size(); ++l) {
      if (timing[l].cycles == 0 || k >= bridge.config_cycles.size()) continue;
      const std::uint64_t begin = bridge.config_cycles[k];
      const std::uint64_t end = k + 1 < bridge.config_cycles.size() ? bridge.config_cycles[k + 1] : bridge.end_cycle;
      fmt::print("{:<24} {:>12} {:>12} {:>7.2f}x\n", model.layers[l].name, end - begin, timing[l].cycles,
                 static_cast<double>(end - begin) / static_cast<double>(timing[l].cycles));
      ++k;
    }
    fmt::print("bit-exact: {0}/{0} layers, test vector 0, {1} on SystemC {7} with DRAM latency {2} ns, {3} B/ns, clock {4} ns: "
               "{5} cycles (cycle model at that latency, port-rate memory: {6})\n",
               model.layers.size(), model_path, latency_ns, bandwidth, clock_ns, bridge.end_cycle, model_cycles, FAQ_PRESET);
    return 0;
  } catch (const faq::InputError& e) {
    fmt::print(stderr, "faq-sc-{}: {}\n", FAQ_PRESET, e.what());
    return faq::kExitBadInput;
  } catch (const std::exception& e) {
    fmt::print(stderr, "faq-sc-{}: internal error: {}\n", FAQ_PRESET, e.what());
    return faq::kExitInternal;
  }
}
