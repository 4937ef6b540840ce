// The cycle model (docs/cycle-model.md) on hand-timed instruction sequences — durations, latencies, each kind of
// dependency, the barrier, the two memory channels — and, on compiled random models, the invariants every schedule
// must satisfy (the array is never busier than the elapsed cycles, layers add up to the program).
#include "passes.h"

#include "faq/error.h"
#include "faq/sim/cycle_model.h"
#include "faq/faq_file.h"

#include "instructions.h"

#include <gtest/gtest.h>

namespace faq::sim {
namespace {

using isa::Instruction;
using isa::Opcode;

using testing::make;

AcceleratorConfig tiny() { return AcceleratorConfig::load("tiny"); }  // 4x4, 8-bit, 128-bit port

Instruction config8() {
  using F = isa::Config;
  return make(Opcode::Config, {{F::in_bits, 8}, {F::in_signed, 1}, {F::weight_bits, 8}, {F::out_bits, 8}, {F::out_signed, 1},
                               {F::res_bits, 8}, {F::res_signed, 1}, {F::in_pixel_stride, 4}, {F::out_pixel_stride, 4}, {F::out_range_bits, 8}});
}

Instruction load(isa::Buffer buffer, std::uint64_t sram, std::uint64_t cy, std::uint64_t cx, std::uint64_t pad = 0) {
  using F = isa::Load;
  return make(Opcode::Load, {{F::buffer, static_cast<std::uint64_t>(buffer)}, {F::sram_addr, sram}, {F::count_y, cy}, {F::count_x, cx},
                             {F::sram_stride_y, cx + 2 * pad}, {F::pad_top, pad}, {F::pad_bottom, pad}, {F::pad_left, pad}, {F::pad_right, pad}});
}

Instruction matmul(int bank, std::uint64_t spad, std::uint64_t acc, std::uint64_t lines) {
  using F = isa::Matmul;
  return make(Opcode::Matmul, {{F::bank, static_cast<std::uint64_t>(bank)}, {F::spad_addr, spad}, {F::spad_stride_x, 1}, {F::acc_addr, acc},
                               {F::count_y, 1}, {F::count_x, lines}});
}

Instruction preload(int bank, std::uint64_t wbuf) {
  return make(Opcode::Preload, {{isa::Preload::wbuf_addr, wbuf}, {isa::Preload::bank, static_cast<std::uint64_t>(bank)}});
}

Instruction store(std::uint64_t acc, std::uint64_t lines) {
  using F = isa::Store;
  return make(Opcode::Store, {{F::acc_addr, acc}, {F::count_y, 1}, {F::count_x, lines}});
}

TEST(CycleModel, LoadCostsBeatsPerLinePlusPaddingThenLatency) {
  CycleModel m(tiny(), {.mem_latency = 20, .post_latency = 4});
  m.issue(config8());
  // 3x5 lines from DRAM (4 bytes each: one beat of the 16-byte port) and a 1-pixel border: 5x7 = 35 lines.
  const Timing t = m.issue(load(isa::Buffer::Spad, 0, 3, 5, 1));
  EXPECT_EQ(t.issue, 1u);
  EXPECT_EQ(t.busy_until, 1u + 35);
  EXPECT_EQ(t.done, 1u + 35 + 20 + 2);  // DRAM latency, then the response FIFO and the completion
  EXPECT_EQ(t.dram_read, 15u * 4);
  // A narrow port: 32 bits carry a 4-byte line per beat; 16-bit lanes need two beats per line.
  AcceleratorConfig narrow = tiny();
  narrow.mem_port_bits = 16;
  CycleModel n(narrow, {.mem_latency = 5, .post_latency = 4});
  n.issue(config8());
  const Timing u = n.issue(load(isa::Buffer::Spad, 0, 2, 2));
  EXPECT_EQ(u.busy_until - u.issue, 4u * 2);
  EXPECT_EQ(u.done - u.busy_until, 5u + 2);
}

TEST(CycleModel, MatmulStreamsOneLinePerCycleAndDrainsThroughTheArray) {
  CycleModel m(tiny());
  m.issue(config8());
  const Timing pre = m.issue(preload(0, 0));
  EXPECT_EQ(pre.busy_until - pre.issue, 4u);  // rows
  EXPECT_EQ(pre.done, pre.busy_until + 1);
  const Timing mm = m.issue(matmul(0, 0, 0, 10));
  EXPECT_EQ(mm.issue, pre.done);              // waits for the weights in its bank
  EXPECT_EQ(mm.busy_until, mm.issue + 10);
  EXPECT_EQ(mm.done, mm.busy_until + 4 + 4 + 2);  // rows + cols + 1 edges through the array, then the ACC write
  EXPECT_EQ(mm.macs, 10u * 16);
  // The next MATMUL into the same ACC lines follows in the array's pipeline, without waiting for the drain.
  const Timing next = m.issue(matmul(0, 0, 0, 10));
  EXPECT_EQ(next.issue, mm.busy_until);
}

TEST(CycleModel, DoubleBufferedWeightsHideThePreload) {
  CycleModel m(tiny());
  m.issue(config8());
  m.issue(preload(0, 0));
  const Timing a = m.issue(matmul(0, 0, 0, 100));
  const Timing p = m.issue(preload(1, 4));  // other bank: runs while the array works on bank 0
  EXPECT_LT(p.issue, a.busy_until);
  const Timing b = m.issue(matmul(1, 0, 0, 100));
  EXPECT_EQ(b.issue, a.busy_until);  // no bubble
  // Reloading bank 0 must wait until the MATMUL that uses it has drained.
  const Timing again = m.issue(preload(0, 0));
  EXPECT_GE(again.issue, a.done);
}

TEST(CycleModel, DependenciesThroughBuffers) {
  CycleModel m(tiny());
  m.issue(config8());
  const Timing l = m.issue(load(isa::Buffer::Spad, 0, 1, 8));
  m.issue(preload(0, 0));
  const Timing mm = m.issue(matmul(0, 0, 0, 8));
  EXPECT_GE(mm.issue, l.done);  // RAW through SPAD
  const Timing st = m.issue(store(0, 8));
  EXPECT_EQ(st.issue, mm.done);  // RAW through ACC: the results must have drained
  EXPECT_EQ(st.busy_until, st.issue + 8 + 4 + 2);  // lines, post-processing, output FIFO and write
  EXPECT_EQ(st.dram_written, 8u * 4);
  // Overwriting the ACC lines the STORE reads waits for it (WAR); the other ACC half does not.
  const std::int64_t half = tiny().acc_lines() / 2;
  m.issue(preload(1, 4));
  const Timing other = m.issue(matmul(1, 0, static_cast<std::uint64_t>(half), 8));
  EXPECT_LT(other.issue, st.done);
  m.issue(preload(0, 0));
  const Timing same = m.issue(matmul(0, 0, 0, 8));
  EXPECT_GE(same.issue, st.done);
}

TEST(CycleModel, LoadAndStoreUseSeparateChannelsVaddHoldsBoth) {
  CycleModel m(tiny());
  m.issue(config8());
  m.issue(preload(0, 0));
  m.issue(matmul(0, 0, 0, 8));
  const Timing st = m.issue(store(0, 200));
  const Timing ld = m.issue(load(isa::Buffer::Spad, static_cast<std::uint64_t>(tiny().spad_lines() / 2), 1, 10));
  EXPECT_LT(ld.issue, st.busy_until);  // read channel free while the write channel stores
  const Timing v = m.issue(make(Opcode::Vadd, {{isa::Vadd::count, 5}}));
  EXPECT_GE(v.issue, st.busy_until);
  EXPECT_GE(v.issue, ld.busy_until);
  EXPECT_EQ(v.busy_until - v.issue, 5u * 2 + 20 + 4 + 1 + 2);  // a and b reads, latency, post-processing, last write, + 2 as STORE
}

// serial_issue: each instruction waits until every earlier one is complete (a barrier, as CONFIG), so the LOAD that
// overlaps the STORE above waits for it here.
TEST(CycleModel, SerialIssueWaitsForEveryEarlierInstruction) {
  AcceleratorConfig serial = tiny();
  serial.serial_issue = true;
  for (const bool is_serial : {false, true}) {
    CycleModel m(is_serial ? serial : tiny());
    m.issue(config8());
    const Timing pl = m.issue(preload(0, 0));
    const Timing mm = m.issue(matmul(0, 0, 0, 8));
    const Timing st = m.issue(store(0, 200));
    const Timing ld = m.issue(load(isa::Buffer::Spad, static_cast<std::uint64_t>(tiny().spad_lines() / 2), 1, 10));
    if (is_serial) {
      EXPECT_EQ(mm.issue, pl.done);
      EXPECT_EQ(st.issue, mm.done);
      EXPECT_EQ(ld.issue, st.done);
    } else {
      EXPECT_LT(ld.issue, st.busy_until);
    }
  }
}

// Cycles ST is busy with a STORE of `lines` lines after CONFIG.
std::uint64_t store_cycles(const AcceleratorConfig& c, std::uint64_t lines) {
  CycleModel m(c);
  m.issue(config8());
  const Timing t = m.issue(store(0, lines));
  return t.busy_until - t.issue;
}

TEST(CycleModel, FewerPostLanesTakeGCyclesPerLine) {
  // tiny with one post-processing lane for its 4 columns: a STORE line enters the lanes every 4 cycles (its
  // write needs one beat) and spends 4 cycles in them; VADD lines likewise when their reads take fewer cycles
  AcceleratorConfig one = tiny();
  one.post_lanes = 1;
  const std::uint64_t lines = 50;
  EXPECT_EQ(store_cycles(tiny(), lines), lines + 4 + 2);                   // one line per cycle, post-processing, write
  EXPECT_EQ(store_cycles(one, lines), 1 + (lines - 1) * 4 + 4 + 2 + 4);  // + the last line's 4 cycles in the lanes
  CycleModel m(one);
  m.issue(config8());
  const Timing v = m.issue(make(Opcode::Vadd, {{isa::Vadd::count, 5}}));
  // reads of line 1, 4 more lines 4 cycles apart, its lanes, memory latency, post-processing, the write, + 2 as STORE
  EXPECT_EQ(v.busy_until - v.issue, 2 + 4u * 4 + 4 + 20 + 4 + 1 + 2);
}

TEST(CycleModel, DigitSerialLanesTakeTheirCyclesPerElement) {
  // tiny with 2 lanes for its 4 columns, 4 cycles per element (post_mult_cycles): a line spends 2 x 4 = 8 cycles
  // in the lanes; with one lane per column at 2 cycles per element, 2
  AcceleratorConfig two = tiny(), serial = tiny();
  two.post_lanes = 2;
  two.post_mult_cycles = 4;
  serial.post_mult_cycles = 2;
  const std::uint64_t lines = 50;
  EXPECT_EQ(store_cycles(two, lines), 1 + (lines - 1) * 8 + 4 + 2 + 8);
  EXPECT_EQ(store_cycles(serial, lines), 1 + (lines - 1) * 2 + 4 + 2 + 2);
}

TEST(CycleModel, ConfigAndHaltWaitForEveryUnit) {
  CycleModel m(tiny());
  m.issue(config8());
  m.issue(preload(0, 0));
  const Timing mm = m.issue(matmul(0, 0, 0, 50));
  const Timing c = m.issue(config8());
  EXPECT_EQ(c.issue, mm.done);
  const Timing h = m.issue(Instruction(Opcode::Halt));
  EXPECT_EQ(h.issue, c.done);
  EXPECT_EQ(m.now(), h.issue + 1);
}

TEST(CycleModel, CompiledProgramsRespectTheInvariants) {
  for (const char* preset : {"tiny", "default", "wide", "edge"}) {
    const AcceleratorConfig config = AcceleratorConfig::load(preset);
    const Model model = read_faq(std::string(FAQ_MODELS_DIR) + "/fmnist_resnet20_w4a4.faq");
    compiler::Program program;
    try {
      program = compiler::compile(model, config);
    } catch (const InputError&) {
      continue;  // edge: the 8-bit first layer does not fit its 4-bit array
    }
    const auto layers = time_layers(program.code, program.layer_first, config);
    CycleModel whole(config);
    std::uint64_t ex = 0, halt = 0;
    for (const auto& i : program.code) {
      const Timing t = whole.issue(i);
      if (i.opcode == Opcode::Halt) halt = t.issue;
      ASSERT_LE(t.issue, t.busy_until);
      ASSERT_LE(t.busy_until, t.done);
      if (t.unit == Unit::Ex) ex += t.busy_until - t.issue;
    }
    std::uint64_t sum = 0;
    for (std::size_t l = 0; l < layers.size(); ++l) {
      sum += layers[l].cycles;
      for (const auto busy : layers[l].busy) EXPECT_LE(busy, layers[l].cycles) << preset << " layer " << l;
      EXPECT_LE(static_cast<double>(layer_macs(model.layers[l])),
                static_cast<double>(config.pes()) * static_cast<double>(layers[l].cycles)) << preset << " layer " << l;
    }
    EXPECT_EQ(sum, halt) << preset;  // HALT issues when the last layer completes
    EXPECT_EQ(ex, whole.totals().busy[static_cast<std::size_t>(Unit::Ex)]);
    EXPECT_GE(whole.now(), ex);
  }
}

}  // namespace
}  // namespace faq::sim
