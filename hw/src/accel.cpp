// The accelerator's top level, faq_accel: instruction fetch, the decoder generated from the ISA table, the issue
// stage with the scoreboard of docs/cycle-model.md, and the four units with their buffers:
//   LD  LOAD: a request generator walks the (padded) 2-D block and sends one read request per beat (padding
//       lines need none); a metadata FIFO in request order tells the response side where each beat goes, so the
//       generator runs ahead of the DRAM latency. Lines are assembled from beats, unpacked by CONFIG's lane
//       widths and written to SPAD / WBUF / ACC / PARAM.
//   PL  PRELOAD: `rows` WBUF lines shift into the array's shadow bank, the tile's last row first.
//   EX  MATMUL: one SPAD line per cycle into the array; the ACC line address travels beside it through a delay
//       line as long as the array's latency, and the result is accumulated into ACC (read-modify-write).
//   ST  STORE / VADD / POOL: lines into `cols` post-processing lanes (faq_post), packed by CONFIG's output width,
//       then written beat by beat through an output FIFO; VADD and POOL read DRAM through the same response
//       FIFO as LD (the issue stage gives the read channel to one of them at a time).
// Every unit reports the completion of each instruction; the scoreboard counts, per unit and resource, the
// instructions in flight that read or write it, and an instruction issues only when no other unit holds what it
// touches (RAW, WAR, WAW), exactly as the cycle model times it. CONFIG and HALT wait until nothing is in flight.
// Every buffer and FIFO has one write port and synchronous read ports (sync_memory/read_port below: the read is
// issued with the address of the coming cycle, so the timing is that of an asynchronous read, cycle for cycle), so
// that synthesis can map them onto block RAM or SRAM macros; ACC is split into its two scoreboard halves, each
// with one write port. Only the 4-entry instruction queue stays in flip-flops.
#include "faq/hw/generate.h"

#include "faq/arithmetic.h"
#include "faq/isa.h"
#include "faq/packing.h"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <algorithm>
#include <array>
#include <bit>
#include <stdexcept>

namespace faq::hw {

namespace {

int clog2(std::int64_t n) { return n <= 1 ? 1 : static_cast<int>(std::bit_width(static_cast<std::uint64_t>(n - 1))); }

// Lane widths a LOAD or STORE may use for a buffer whose widest lane is `max_bits` (CONFIG checks the rest).
std::vector<int> lane_widths(int max_bits) {
  std::vector<int> widths;
  for (int b : {2, 4, 8, 16, 32})
    if (b <= max_bits) widths.push_back(b);
  return widths;
}

// The bits of an instruction field in `ins`; only its low `bits` bits when given (a field feeding a narrower address).
std::string field(isa::Opcode op, std::string_view name, int bits = 0) {
  for (const auto& f : isa::spec_of(op).field_list())
    if (f.name == name) return fmt::format("ins[{}:{}]", f.lsb + (bits > 0 ? std::min(bits, f.width) : f.width) - 1, f.lsb);
  throw std::logic_error(fmt::format("ISA has no field {}.{}", isa::spec_of(op).mnemonic, name));
}

int field_width(isa::Opcode op, std::string_view name) {
  for (const auto& f : isa::spec_of(op).field_list())
    if (f.name == name) return f.width;
  throw std::logic_error(fmt::format("ISA has no field {}.{}", isa::spec_of(op).mnemonic, name));
}

using Regs = std::vector<std::pair<std::string, int>>;

// The signal `name` of `from` bits at `to` bits: zero-extended or truncated (addresses that only index a buffer of
// 2^to lines: their low bits follow from the low bits of the operands).
std::string fit(const std::string& name, int from, int to) {
  if (from == to) return name;
  if (from < to) return fmt::format("{{{}'d0, {}}}", to - from, name);
  return fmt::format("{}[{}:0]", name, to - 1);
}

// Appends "if (rst) every register of `regs` <= 0" to a clocked block (the last assignment wins): control
// registers start known, so that a gate-level netlist, whose flip-flops power up unknown, leaves reset defined.
void zero_on_reset(Block& b, const Regs& regs) {
  b.if_("rst", [&](Block& t) {
    for (const auto& [name, width] : regs) t.assign(name, fmt::format("{}'d0", width));
  });
}

// A memory with one write port and synchronous read ports. A read port registers mem[next] at every clock edge,
// `next` being the address its reader holds in the coming cycle, so the registered data equals an asynchronous read
// of the reader's address register, cycle for cycle (the timing of docs/cycle-model.md is unchanged). A port that can
// meet a write to the same line at the same edge (FIFOs, read-modify-write) forwards the written data (write-first).
// Synthesis maps such memories onto block RAM or SRAM macros; asynchronous reads would force flip-flops.
struct SyncMemory {
  std::string name;
  int width = 0;
  int address_bits = 0;
};

// Declares the memory and its write port: wires NAME_we, NAME_wa, NAME_wd, which the caller drives.
SyncMemory sync_memory(Module& m, const std::string& name, int width, std::int64_t depth, bool block_ram = false) {
  const SyncMemory mem{name, width, clog2(depth)};
  m.memory(name, width, depth, false, block_ram);
  m.wire(name + "_we");
  m.wire(name + "_wa", mem.address_bits);
  m.wire(name + "_wd", width);
  m.always_ff("clk", [&](Block& b) { b.if_(name + "_we", [&](Block& t) { t.assign(fmt::format("{0}[{0}_wa]", name), name + "_wd"); }); });
  return mem;
}

// A FIFO pointer's value in the coming cycle: cleared by reset or start, else advanced by `step` (one bit).
std::string advanced(const std::string& pointer, const std::string& step, int bits) {
  return fmt::format("(rst || start) ? {0}'d0 : {1} + {{{2}'d0, {3}}}", bits, pointer, bits - 1, step);
}

// A read port: the register `data`, loaded from line `next` (an expression of mem.address_bits bits).
std::string read_port(Module& m, const SyncMemory& mem, const std::string& data, const std::string& next, bool forward) {
  const auto r = m.reg(data, mem.width);
  const auto address = m.wire(data + "_next", mem.address_bits);
  m.assign(address, next);
  m.always_ff("clk", [&](Block& b) {
    const std::string read = fmt::format("{}[{}]", mem.name, address.name);
    b.assign(r, forward ? fmt::format("({0}_we && {0}_wa == {1}) ? {0}_wd : {2}", mem.name, address.name, read) : read);
  });
  return r.name;
}

// A delay line in memory (the configuration's delay_memory): `in` (width bits) as it was `depth` edges ago, its top
// `kept` bits (valid flags: reset) a shift register of flip-flops, the bits below them written every cycle into a
// memory of 2^k >= depth lines and read depth - 1 lines behind the write (the read register is the last stage; the
// two addresses always differ, so the memory needs no forwarding). With `tap`, the stage before the last is the
// read register (a memory delay of depth - 1) and a register after it the last: returns {last, before} as Verilog
// expressions. On an FPGA such a memory is one block RAM instead of depth x width flip-flops (marked as block RAM:
// Yosys would map one of 4 lines to flip-flops, with the multiplexers of a memory).
std::pair<std::string, std::string> memory_delay(Module& m, const std::string& name, const std::string& in, int width,
                                                 int depth, int kept, bool tap) {
  const int low = width - kept, e = tap ? depth - 1 : depth;  // the memory's bits and delay
  if (low < 1 || e < 2) throw std::logic_error(fmt::format("delay line {}: {} bits of {} stages cannot go in memory", name, low, e));
  const int k = clog2(e);
  const auto mem = sync_memory(m, name + "_mem", low, std::int64_t{1} << k, true);  // (however few its lines)
  const auto wp = m.reg(name + "_wp", k), flags = m.reg(name + "_flags", depth * kept);
  m.assign(mem.name + "_we", "1'b1");
  m.assign(mem.name + "_wa", wp);
  m.assign(mem.name + "_wd", fmt::format("{}[{}:0]", in, low - 1));
  const std::string q = read_port(m, mem, name + "_q", fmt::format("{} - {}'d{}", wp.name, k, e - 1), false);
  auto stage_flags = [&](int stage) { return fmt::format("{}[{}:{}]", flags.name, stage * kept + kept - 1, stage * kept); };
  m.always_ff("clk", [&](Block& b) {
    b.if_("rst", [&](Block& t) { t.assign(wp, fmt::format("{}'d0", k)).assign(flags, fmt::format("{}'d0", depth * kept)); }, [&](Block& t) {
      t.assign(wp, fmt::format("{} + {}'d1", wp.name, k));
      t.assign(flags, fmt::format("{{{}[{}:0], {}[{}:{}]}}", flags.name, (depth - 1) * kept - 1, in, width - 1, low));  // (depth >= 2)
    });
  });
  if (!tap) return {fmt::format("{{{}, {}}}", stage_flags(depth - 1), q), ""};
  const auto last = m.reg(name + "_last", low);
  m.always_ff("clk", [&](Block& b) { b.assign(last, q); });
  return {fmt::format("{{{}, {}}}", stage_flags(depth - 1), last.name), fmt::format("{{{}, {}}}", stage_flags(depth - 2), q)};
}

}  // namespace

Module accel_module(const AcceleratorConfig& cfg) {
  using isa::Opcode;
  const Widths w(cfg);
  const int R = cfg.rows, C = cfg.cols, P = cfg.mem_port_bits / 8, PB = cfg.mem_port_bits;
  const int spad_aw = clog2(cfg.spad_lines()), wbuf_aw = clog2(cfg.wbuf_lines()), acc_aw = clog2(cfg.acc_lines()),
            param_aw = clog2(cfg.param_lines());
  // a PARAM entry on chip: a (32), b (32), shift (wide enough for the contract's largest shift)
  const int param_entry = 64 + static_cast<int>(std::bit_width(static_cast<unsigned>(arith::kMaxShift)));
  const int max_line_bytes = std::max({R * 16 / 8, C * 16 / 8, 4 * C, packing::kParamEntryBytes * C, C * 32 / 8});
  auto beats = [&](int bytes) { return (bytes + P - 1) / P; };  // port beats of a line of `bytes`
  const int max_beats = beats(max_line_bytes);
  const int beat_w = clog2(max_beats + 1);
  const int lp = std::countr_zero(static_cast<unsigned>(P));  // log2 of the port's bytes
  // the bytes of a line of cols lanes of `bits` bits (a CONFIG width), and the port beats of `bytes` (`width` bits)
  auto line_bytes = [&](const std::string& bits) { return fmt::format("(16'd{} * {{11'd0, {}}}) >> 3", C, bits); };
  auto beats_of = [&](const std::string& bytes, int width) { return fmt::format("({} + {}'d{}) >> {}", bytes, width, P - 1, lp); };
  // DRAM addresses are AW bits wide inside (the memory ports stay 32 bits, zero-extended): every address the
  // program uses lies below 2^AW, so sums of the low AW bits of their terms are exact (docs/config.md)
  const int AW = cfg.dram_addr_bits;
  const int SW = std::min(20, AW), DW = std::min(24, AW);  // CONFIG's pixel strides, LOAD's and STORE's row strides
  const bool pool = cfg.pool_unit;  // without it POOL is an unknown opcode (error) and ST has no window walk
  // serial issue: an instruction issues when every earlier one is complete, so there is no scoreboard (no resource
  // masks, no per-unit FIFOs and counters) and one instruction register: the next is fetched when the head issues
  // (it is ready two cycles later, before any instruction but CONFIG completes)
  const bool serial = cfg.serial_issue;
  const int QD = serial ? 1 : 4, qaw = 2;  // instruction queue entries, pointer bits (QD > 1)
  using Arms = std::vector<std::pair<std::string, std::function<void(Block&)>>>;
  auto without_pool = [&](Arms arms) {  // case arms, POOL's (the last) only on an accelerator with the unit
    if (!pool) arms.pop_back();
    return arms;
  };
  auto port_address = [&](const std::string& address) { return AW == 32 ? address : fmt::format("{{{}'d0, {}}}", 32 - AW, address); };
  // the byte offset of beat `beat` (a signal of `bits` bits) in its line, at `width` bits
  auto beat_bytes = [&](const std::string& beat, int bits, int width) {
    return lp == 0 ? fit(beat, bits, width) : fmt::format("{{{}'d0, {}, {}'d0}}", width - bits - lp, beat, lp);
  };
  Module m("faq_accel", fmt::format("the FAQ accelerator: {}x{} weight-stationary array, LD/PL/EX/ST units, scoreboarded in-order issue", R, C));
  // ---- ports ---------------------------------------------------------------------------------------------
  const auto clk = m.input("clk");
  const auto rst = m.input("rst");
  const auto start = m.input("start");
  const auto prog_addr = m.input("prog_addr", 32);
  const auto done = m.output_reg("done");
  const auto error = m.output_reg("error");
  const auto imem_req = m.output("imem_req");
  const auto imem_addr = m.output("imem_addr", 32);
  const auto imem_valid = m.input("imem_valid");
  const auto imem_data = m.input("imem_data", 128);
  const auto rd_req = m.output("rd_req");
  const auto rd_addr = m.output("rd_addr", 32);
  const auto rd_ready = m.input("rd_ready");
  const auto rd_valid = m.input("rd_valid");
  const auto rd_data = m.input("rd_data", PB);
  const auto wr_req = m.output("wr_req");
  const auto wr_addr = m.output("wr_addr", 32);
  const auto wr_data = m.output("wr_data", PB);
  const auto wr_strb = m.output("wr_strb", P);
  const auto wr_ready = m.input("wr_ready");
  const auto perf_cycles = m.output_reg("perf_cycles", 64);
  const auto perf_stall = m.output_reg("perf_stall", 64);
  const auto perf_busy = m.output_reg("perf_busy", 4 * 32);  // LD, PL, EX, ST (32 bits each)
  const auto perf_configs = m.output_reg("perf_configs", 32);
  const auto perf_lines = m.output_reg("perf_lines", 64);  // activation lines through the array
  const auto perf_mem = m.output_reg("perf_mem", 64);      // memory beats: read (low 32 bits), written (high 32 bits)
  // per unit (LD, PL, EX, ST; 32 bits each): cycles the head instruction waited for that unit
  const auto perf_unit_stall = m.output_reg("perf_unit_stall", 4 * 32);
  // buffer accesses (32 bits each): SPAD, WBUF, ACC, PARAM line writes, then SPAD, WBUF, ACC, PARAM line reads
  const auto perf_buf = m.output_reg("perf_buf", 8 * 32);

  // ---- fetch: a 4-entry instruction queue (serial issue: one instruction register) -------------------------
  const auto running = m.reg("running");
  const auto pc = m.reg("pc", 32);
  const auto fetch_stop = m.reg("fetch_stop");
  const auto q = m.memory("q", 128, QD);
  if (QD > 1) m.reg("q_head", qaw), m.reg("q_tail", qaw);
  const std::string q_head = QD > 1 ? "q_head" : "0", q_tail = QD > 1 ? "q_tail" : "0";  // entries at the head, the tail
  const auto q_count = m.reg("q_count", 3);
  // instruction requests not yet answered: the instruction port answers each request in order, one or more cycles
  // later (a board's memory may take several), and at most QD are outstanding, the queue's room
  const auto inflight = m.reg("inflight", 3);
  const auto fetch = m.wire("fetch");
  const auto issue = m.wire("issue");  // the head issues this cycle
  m.assign(fetch, fmt::format("{} && !{} && ({} + {} < 3'd{}) && !{}", running.name, fetch_stop.name, q_count.name, inflight.name, QD, rst.name));
  const auto fetched = m.wire("fetched");  // an instruction arrives
  m.assign(fetched, fmt::format("{} && {} != 3'd0", imem_valid.name, inflight.name));
  m.assign(imem_req, fetch);
  m.assign(imem_addr, pc);
  if (!pool) m.lint_off("UNUSEDSIGNAL");  // POOL's fields
  const auto ins = m.wire("ins", 128);
  if (!pool) m.lint_on("UNUSEDSIGNAL");
  const auto head_valid = m.wire("head_valid");
  m.assign(ins, fmt::format("{}[{}]", q.name, q_head));
  m.assign(head_valid, fmt::format("{} != 3'd0", q_count.name));
  const auto opcode = m.wire("opcode", 6);
  m.assign(opcode, "ins[5:0]");
  auto is = [&](Opcode op) { return fmt::format("(opcode == 6'd{})", static_cast<int>(op)); };

  // ---- CONFIG registers ---------------------------------------------------------------------------------------
  // (out_signed and out_range_bits live on as the saturation bounds sat_lo / sat_hi)
  const auto in_bits = m.reg("in_bits", 5), weight_bits = m.reg("weight_bits", 5), out_bits = m.reg("out_bits", 5),
             res_bits = m.reg("res_bits", 5);
  const auto in_signed = m.reg("in_signed"), res_signed = m.reg("res_signed");
  if (cfg.scalable) {
    // the precision mode of a scalable array (AcceleratorConfig::products): bit 0 activations, bit 1 weights of at
    // most 4 bits, bit 2 signed activations; CONFIG waits until nothing is in flight, so the mode is steady while lines are in the array
    m.assign(m.wire("sc_mode", kScalableModeBits), fmt::format("{{in_signed, weight_bits <= 5'd{0}, in_bits <= 5'd{0}}}",
                                                               AcceleratorConfig::kNarrowOperandBits));
  }
  const auto in_stride = m.reg("in_stride", SW), out_stride = m.reg("out_stride", SW);
  const auto sat_lo = m.reg("sat_lo", kSaturationBits, true), sat_hi = m.reg("sat_hi", kSaturationBits, true);
  // VADD's beats per line of a and of b, less one, at CONFIG's widths (st_in_last, st_res_last): a line of cols
  // lanes of in_bits (res_bits) bits, in ceil(bytes / port bytes) beats. Set as CONFIG issues, from its fields, so
  // that no multiplier or adder lies between the CONFIG registers and the read requests' last-beat test.
  const auto st_in_last = m.reg("st_in_last", beat_w), st_res_last = m.reg("st_res_last", beat_w);
  // (no beats, at bits 0, leave all ones there, as `beats - 1` would)
  auto line_beats = [&](const std::string& bits) { return beats_of("(" + line_bytes(bits) + ")", 16); };

  // ---- resources and the scoreboard ---------------------------------------------------------------------------
  // bits: 0 SPAD0, 1 SPAD1, 2 WBUF0, 3 WBUF1, 4 BANK0, 5 BANK1, 6 ACC0, 7 ACC1, 8 PARAM
  const int NR = 9;
  // An instruction's first and last buffer lines, at RW bits: a 16-bit address plus (count - 1) x stride (at most
  // 1052 x 4095) plus a count cannot reach 2^24, so the ranges are exact.
  constexpr int RW = 24;
  auto wr = [](const std::string& e, int width) { return width >= RW ? e : fmt::format("{{{}'d0, {}}}", RW - width, e); };
  // LOAD's padded block has at most 15 + 1023 + 15 lines by as many positions: 11 bits (checked against the ISA table)
  constexpr int kBlockBits = 11;
  if (clog2((1 << field_width(Opcode::Load, "pad_top")) + (1 << field_width(Opcode::Load, "count_y")) + (1 << field_width(Opcode::Load, "pad_bottom")) - 2) !=
      kBlockBits)
    throw std::logic_error("LOAD's block size no longer fits kBlockBits");
  // field `name` of `op` in instruction `src` (the head of the queue `ins`, or `imem_data` arriving), zero-extended
  // to kBlockBits
  auto in_block = [&](const std::string& src, Opcode op, std::string_view name) {
    return fmt::format("{{{}'d0, {}{}}}", kBlockBits - field_width(op, name), src, field(op, name).substr(3));
  };
  // the padded block's height and width in wires PREFIXh and PREFIXw
  auto padded_block = [&](const std::string& prefix, const std::string& src) {
    const auto height = m.wire(prefix + "h", kBlockBits), width = m.wire(prefix + "w", kBlockBits);
    m.assign(height, fmt::format("{} + {} + {}", in_block(src, Opcode::Load, "pad_top"), in_block(src, Opcode::Load, "count_y"), in_block(src, Opcode::Load, "pad_bottom")));
    m.assign(width, fmt::format("{} + {} + {}", in_block(src, Opcode::Load, "pad_left"), in_block(src, Opcode::Load, "count_x"), in_block(src, Opcode::Load, "pad_right")));
  };
  // What the units take from the instruction at the head when it issues.
  padded_block("ld_", "ins");
  const auto ld_empty = m.wire("ld_empty");
  // the padded sums are zero exactly when their three fields are (11 bits hold the largest): no adders on the path
  // from the queue's head to the read metadata FIFO's write (ld_nop)
  auto all_zero = [&](std::initializer_list<std::string_view> names) {
    std::string out;
    for (auto name : names) out += fmt::format("{}{} == {}'d0", out.empty() ? "" : " && ", field(Opcode::Load, name), field_width(Opcode::Load, name));
    return out;
  };
  m.assign(ld_empty, fmt::format("({}) || ({})", all_zero({"pad_top", "count_y", "pad_bottom"}), all_zero({"pad_left", "count_x", "pad_right"})));
  // MATMUL
  const auto mm_lines = m.wire("mm_lines");  // the MATMUL streams at least one line
  m.assign(mm_lines, fmt::format("{} != 10'd0 && {} != 10'd0", field(Opcode::Matmul, "count_y"), field(Opcode::Matmul, "count_x")));
  // the first SPAD and ACC lines of a MATMUL or STORE, at the buffers' address widths
  auto first_line = [&](Opcode op, std::string_view name, int aw) { return fit(field(op, name, aw), std::min(16, aw), aw); };
  const std::string mm_sfirst = first_line(Opcode::Matmul, "spad_addr", spad_aw), mm_afirst = first_line(Opcode::Matmul, "acc_addr", acc_aw),
                    st_afirst = first_line(Opcode::Store, "acc_addr", acc_aw);

  // What each opcode may read and write (resource bit sets) and its unit, stated once: each mask below is limited
  // to its opcode's sets, and the scoreboard keeps counters for exactly what each unit's opcodes may touch.
  struct Access {
    Opcode op;
    int unit;  // 0 LD, 1 PL, 2 EX, 3 ST
    unsigned reads, writes;
  };
  constexpr unsigned kSpad = 0x3, kWbuf = 0xC, kBank = 0x30, kAcc = 0xC0, kParam = 0x100;
  const std::vector<Access> access = {{Opcode::Load, 0, 0, kSpad | kWbuf | kAcc | kParam}, {Opcode::Preload, 1, kWbuf, kBank},
                                      {Opcode::Matmul, 2, kSpad | kBank, kAcc},           {Opcode::Store, 3, kAcc | kParam, 0},
                                      {Opcode::Vadd, 3, kParam, 0},                       {Opcode::Pool, 3, kParam, 0}};
  auto access_of = [&](Opcode op) -> const Access& {
    for (const auto& a : access)
      if (a.op == op) return a;
    throw std::logic_error("no access set for an opcode");
  };
  // the scoreboard's bookkeeping (not with serial issue)
  const int fifo_aw = 6, cnt_w = fifo_aw;  // at most 63 instructions of a unit in flight (the issue rule below)
  const std::vector<std::string> unit_names = {"ld", "pl", "ex", "st"};
  std::vector<std::pair<unsigned, unsigned>> touches(4);  // (reads, writes) per unit
  for (const auto& a : access) {
    touches[static_cast<std::size_t>(a.unit)].first |= a.reads;
    touches[static_cast<std::size_t>(a.unit)].second |= a.writes;
  }
  struct Tracked {
    int resource;
    bool write;
  };
  std::vector<std::vector<Tracked>> tracked(4);
  std::vector<SyncMemory> mask_fifos;
  if (!serial) {
  // The resources an instruction reads and writes (the halves its line ranges touch), found when it arrives from the
  // instruction port and kept beside it in the queue (qm), so that the issue stage only reads them. One instruction
  // arrives per cycle, so its ranges share two multipliers: range A (LOAD's block, PRELOAD's tile, MATMUL's SPAD
  // lines, STORE's ACC lines) and range B (MATMUL's ACC lines).
  auto ff = [](Opcode op, std::string_view name) { return "imem_data" + field(op, name).substr(3); };
  auto fis = [](Opcode op) { return fmt::format("(imem_data[5:0] == 6'd{})", static_cast<int>(op)); };
  padded_block("f_ld_", "imem_data");
  const auto f_mm_lines = m.wire("f_mm_lines"), f_st_lines = m.wire("f_st_lines");
  m.assign(f_mm_lines, fmt::format("{} != 10'd0 && {} != 10'd0", ff(Opcode::Matmul, "count_y"), ff(Opcode::Matmul, "count_x")));
  m.assign(f_st_lines, fmt::format("{} != 10'd0 && {} != 10'd0", ff(Opcode::Store, "count_y"), ff(Opcode::Store, "count_x")));
  // range A: first + (count - 1) x stride + term, where a count of 0 wraps (every use is guarded)
  const auto a_count = m.wire("f_a_count", 11), a_stride = m.wire("f_a_stride", 12), a_first = m.wire("f_a_first", RW);
  m.assign(a_count, fmt::format("{} ? f_ld_h : {} ? {} : {} ? {} : 11'd1", fis(Opcode::Load), fis(Opcode::Matmul), in_block("imem_data", Opcode::Matmul, "count_y"),
                                fis(Opcode::Store), in_block("imem_data", Opcode::Store, "count_y")));
  m.assign(a_stride, fmt::format("{} ? {} : {} ? {} : {}", fis(Opcode::Load), ff(Opcode::Load, "sram_stride_y"), fis(Opcode::Matmul),
                                 ff(Opcode::Matmul, "spad_stride_y"), ff(Opcode::Store, "acc_stride_y")));
  m.assign(a_first, fmt::format("{} ? {} : {} ? {} : {} ? {} : {}", fis(Opcode::Load), wr(ff(Opcode::Load, "sram_addr"), 16), fis(Opcode::Matmul),
                                wr(ff(Opcode::Matmul, "spad_addr"), 16), fis(Opcode::Store), wr(ff(Opcode::Store, "acc_addr"), 16),
                                wr(ff(Opcode::Preload, "wbuf_addr"), 16)));
  const auto a_less = m.wire("f_a_less", 11), a_span = m.wire("f_a_span", 23);
  m.assign(a_less, "f_a_count - 11'd1");
  m.assign(a_span, "{12'd0, f_a_less} * {11'd0, f_a_stride}");
  // MATMUL's x step through SPAD, and range B
  const auto mx_less = m.wire("f_mx_less", 10), mx_span = m.wire("f_mx_span", 14), my_less = m.wire("f_my_less", 10), b_span = m.wire("f_b_span", 22);
  m.assign(mx_less, ff(Opcode::Matmul, "count_x") + " - 10'd1");
  m.assign(mx_span, fmt::format("{{4'd0, f_mx_less}} * {{10'd0, {}}}", ff(Opcode::Matmul, "spad_stride_x")));
  m.assign(my_less, ff(Opcode::Matmul, "count_y") + " - 10'd1");
  m.assign(b_span, fmt::format("{{12'd0, f_my_less}} * {{10'd0, {}}}", ff(Opcode::Matmul, "acc_stride_y")));
  const auto a_term = m.wire("f_a_term", RW), a_last = m.wire("f_a_last", RW), b_first = m.wire("f_b_first", RW), b_last = m.wire("f_b_last", RW);
  m.assign(a_term, fmt::format("{} ? {} - {}'d1 : {} ? {} : {} ? {} - {}'d1 : {}'d{}", fis(Opcode::Load), wr("f_ld_w", 11), RW, fis(Opcode::Matmul), wr("f_mx_span", 14),
                               fis(Opcode::Store), wr(ff(Opcode::Store, "count_x"), 10), RW, RW, R - 1));
  m.assign(a_last, fmt::format("({} && (f_ld_h == 11'd0 || f_ld_w == 11'd0)) ? f_a_first : f_a_first + {} + f_a_term", fis(Opcode::Load), wr("f_a_span", 23)));
  m.assign(b_first, wr(ff(Opcode::Matmul, "acc_addr"), 16));
  m.assign(b_last, fmt::format("f_b_first + {} + {} - {}'d1", wr("f_b_span", 22), wr(ff(Opcode::Matmul, "count_x"), 10), RW));
  auto halves = [&](const std::string& name, int lower, const std::string& first, const std::string& last, std::int64_t lines) {
    const std::int64_t half = timing::upper_half(lines);
    const auto s = m.wire(name, NR);
    m.assign(s, fmt::format("({{{}'d0, {} >= {}'d{}, {} < {}'d{}}} << {})", NR - 2, last, RW, half, first, RW, half, lower));
    return s.name;
  };
  const auto a_spad = halves("f_a_spad", 0, "f_a_first", "f_a_last", cfg.spad_lines());
  const auto a_wbuf = halves("f_a_wbuf", 2, "f_a_first", "f_a_last", cfg.wbuf_lines());
  const auto a_acc = halves("f_a_acc", 6, "f_a_first", "f_a_last", cfg.acc_lines());
  const auto b_acc = halves("f_b_acc", 6, "f_b_first", "f_b_last", cfg.acc_lines());
  auto within = [&](const std::string& mask, unsigned set) { return fmt::format("({}) & {}'d{}", mask, NR, set); };
  const auto f_rd = m.reg("f_rd_mask", NR), f_wr = m.reg("f_wr_mask", NR);
  const auto f_unit = m.reg("f_unit", 2);  // 0 LD, 1 PL, 2 EX, 3 ST
  m.always_comb([&](Block& b) {
    b.assign(f_rd, fmt::format("{}'d0", NR)).assign(f_wr, fmt::format("{}'d0", NR)).assign(f_unit, "2'd0");
    b.case_("imem_data[5:0]",
            without_pool({{fmt::format("6'd{}", static_cast<int>(Opcode::Load)),
              [&](Block& x) {
                const unsigned w_set = access_of(Opcode::Load).writes;
                x.assign(f_unit, fmt::format("2'd{}", access_of(Opcode::Load).unit));
                x.case_(ff(Opcode::Load, "buffer"), {{"2'd0", [&](Block& y) { y.assign(f_wr, within(a_spad, w_set)); }},
                                                    {"2'd1", [&](Block& y) { y.assign(f_wr, within(a_wbuf, w_set)); }},
                                                    {"2'd2", [&](Block& y) { y.assign(f_wr, within(a_acc, w_set)); }}},
                        [&](Block& y) { y.assign(f_wr, within(fmt::format("{}'d{}", NR, kParam), w_set)); });
              }},
             {fmt::format("6'd{}", static_cast<int>(Opcode::Preload)),
              [&](Block& x) {
                const Access& a = access_of(Opcode::Preload);
                x.assign(f_unit, fmt::format("2'd{}", a.unit)).assign(f_rd, within(a_wbuf, a.reads));
                x.assign(f_wr, within(fmt::format("{} ? {}'d{} : {}'d{}", ff(Opcode::Preload, "bank"), NR, 1 << 5, NR, 1 << 4), a.writes));
              }},
             {fmt::format("6'd{}", static_cast<int>(Opcode::Matmul)),
              [&](Block& x) {
                const Access& a = access_of(Opcode::Matmul);
                x.assign(f_unit, fmt::format("2'd{}", a.unit));
                x.assign(f_rd, within(fmt::format("(f_mm_lines ? {} : {}'d0) | ({} ? {}'d{} : {}'d{})", a_spad, NR, ff(Opcode::Matmul, "bank"), NR, 1 << 5, NR, 1 << 4), a.reads));
                x.assign(f_wr, within(fmt::format("f_mm_lines ? {} : {}'d0", b_acc, NR), a.writes));
              }},
             {fmt::format("6'd{}", static_cast<int>(Opcode::Store)),
              [&](Block& x) {
                const Access& a = access_of(Opcode::Store);
                x.assign(f_unit, fmt::format("2'd{}", a.unit));
                x.assign(f_rd, within(fmt::format("{}'d{} | (f_st_lines ? {} : {}'d0)", NR, kParam, a_acc, NR), a.reads));
              }},
             {fmt::format("6'd{}", static_cast<int>(Opcode::Vadd)),
              [&](Block& x) {
                const Access& a = access_of(Opcode::Vadd);
                x.assign(f_unit, fmt::format("2'd{}", a.unit)).assign(f_rd, within(fmt::format("{}'d{}", NR, kParam), a.reads));
              }},
             {fmt::format("6'd{}", static_cast<int>(Opcode::Pool)),
              [&](Block& x) {
                const Access& a = access_of(Opcode::Pool);
                x.assign(f_unit, fmt::format("2'd{}", a.unit));
                x.assign(f_rd, within(fmt::format("{} ? {}'d{} : {}'d0", ff(Opcode::Pool, "average"), NR, kParam, NR), a.reads));
              }}}),
            [&](Block&) {});
  });
  // the queue's side entries {unit, wr_mask, rd_mask}, and those of the head
  const auto qm = m.memory("qm", 2 * NR + 2, 4);
  const auto rd_mask = m.wire("rd_mask", NR), wr_mask = m.wire("wr_mask", NR), unit = m.wire("unit", 2);
  m.assign(rd_mask, fmt::format("qm[q_head][{}:0]", NR - 1));
  m.assign(wr_mask, fmt::format("qm[q_head][{}:{}]", 2 * NR - 1, NR));
  m.assign(unit, fmt::format("qm[q_head][{}:{}]", 2 * NR + 1, 2 * NR));
  // Per unit: in-flight counters per resource its opcodes may touch (the access table above; its busy bits for any
  // other resource are constant zero), and a FIFO of those bits of the masks of its instructions in flight.
  for (std::size_t u = 0; u < 4; ++u) {
    const std::string& n = unit_names[u];
    for (int r = 0; r < NR; ++r)
      if (touches[u].first >> r & 1U) tracked[u].push_back({r, false});
    for (int r = 0; r < NR; ++r)
      if (touches[u].second >> r & 1U) tracked[u].push_back({r, true});
    mask_fifos.push_back(sync_memory(m, n + "_mfifo", static_cast<int>(tracked[u].size()), 1 << fifo_aw));
    m.reg(n + "_mhead", fifo_aw);
    m.reg(n + "_mtail", fifo_aw);
    m.reg(n + "_inflight", fifo_aw + 1);
    m.wire(n + "_complete");  // a unit's instruction completes this cycle
    std::vector<std::string> rb(NR, "1'b0"), wb(NR, "1'b0");
    for (const auto& t : tracked[u]) {
      const auto counter = m.reg(fmt::format("{}_{}c{}", n, t.write ? 'w' : 'r', t.resource), cnt_w);
      (t.write ? wb : rb)[static_cast<std::size_t>(t.resource)] = fmt::format("{} != {}'d0", counter.name, cnt_w);
    }
    std::string rcat, wcat;
    for (int r = NR - 1; r >= 0; --r) {
      rcat += (rcat.empty() ? "" : ", ") + rb[static_cast<std::size_t>(r)];
      wcat += (wcat.empty() ? "" : ", ") + wb[static_cast<std::size_t>(r)];
    }
    m.assign(m.wire(n + "_rbusy", NR), "{" + rcat + "}");
    m.assign(m.wire(n + "_wbusy", NR), "{" + wcat + "}");
  }
  const auto hazard = m.wire("hazard");
  {
    std::vector<std::string> terms;
    for (int u = 0; u < 4; ++u) {
      std::string others_r, others_w;
      for (int v = 0; v < 4; ++v) {
        if (v == u) continue;
        others_r += (others_r.empty() ? "" : " | ") + unit_names[static_cast<std::size_t>(v)] + "_rbusy";
        others_w += (others_w.empty() ? "" : " | ") + unit_names[static_cast<std::size_t>(v)] + "_wbusy";
      }
      terms.push_back(fmt::format("((unit == 2'd{}) && (|((({}) & (rd_mask | wr_mask)) | (({}) & wr_mask))))", u, others_w, others_r));
    }
    m.assign(hazard, fmt::format("{} || {} || {} || {}", terms[0], terms[1], terms[2], terms[3]));
  }
  } else {
    // no masks: each opcode's unit decoded at the head, and one flag for the instruction in flight
    m.assign(m.wire("unit", 2), fmt::format("{} ? 2'd0 : {} ? 2'd1 : {} ? 2'd2 : 2'd3", is(Opcode::Load), is(Opcode::Preload), is(Opcode::Matmul)));
    for (const auto& n : unit_names) m.wire(n + "_complete");  // a unit's instruction completes this cycle
    m.reg("in_flight");
  }
  const auto nothing_in_flight = m.wire("nothing_in_flight");
  m.assign(nothing_in_flight, serial ? "!in_flight" : "ld_inflight == 7'd0 && pl_inflight == 7'd0 && ex_inflight == 7'd0 && st_inflight == 7'd0");

  // Unit state (declared here, driven below).
  const auto ld_gen = m.reg("ld_gen");        // LD request generator active
  const auto pl_busy = m.reg("pl_busy");
  const auto ex_busy = m.reg("ex_busy");      // EX streaming
  const auto st_busy = m.reg("st_busy");
  const auto st_reads = m.reg("st_reads");    // ST holds the read channel (VADD, POOL requests)
  const auto can_issue = m.reg("can_issue");
  m.always_comb([&](Block& b) {
    b.assign(can_issue, "1'b0");
    if (serial) {  // every instruction waits for the one before it, as CONFIG and HALT do
      Arms arms;
      for (Opcode op : {Opcode::Config, Opcode::Halt, Opcode::Load, Opcode::Preload, Opcode::Matmul, Opcode::Store, Opcode::Vadd, Opcode::Pool})
        arms.push_back({fmt::format("6'd{}", static_cast<int>(op)), [&](Block& x) { x.assign(can_issue, "nothing_in_flight"); }});
      b.case_("opcode", without_pool(arms), [&](Block&) {});
      return;
    }
    b.case_("opcode",
            without_pool({{fmt::format("6'd{}", static_cast<int>(Opcode::Config)), [&](Block& x) { x.assign(can_issue, "nothing_in_flight"); }},
             {fmt::format("6'd{}", static_cast<int>(Opcode::Halt)), [&](Block& x) { x.assign(can_issue, "nothing_in_flight"); }},
             {fmt::format("6'd{}", static_cast<int>(Opcode::Load)), [&](Block& x) { x.assign(can_issue, "(!ld_gen || (ld_step && ld_last_pos && !ld_empty)) && !st_reads && !hazard && ld_inflight != 7'd63"); }},
             {fmt::format("6'd{}", static_cast<int>(Opcode::Preload)), [&](Block& x) { x.assign(can_issue, "(!pl_busy || pl_complete) && !hazard && pl_inflight != 7'd63"); }},
             {fmt::format("6'd{}", static_cast<int>(Opcode::Matmul)), [&](Block& x) { x.assign(can_issue, "(!ex_busy || ex_last) && !hazard && ex_inflight != 7'd63"); }},
             {fmt::format("6'd{}", static_cast<int>(Opcode::Store)), [&](Block& x) { x.assign(can_issue, "!st_busy && !hazard"); }},
             {fmt::format("6'd{}", static_cast<int>(Opcode::Vadd)), [&](Block& x) { x.assign(can_issue, "!st_busy && !ld_gen && !hazard"); }},
             {fmt::format("6'd{}", static_cast<int>(Opcode::Pool)), [&](Block& x) { x.assign(can_issue, "!st_busy && !ld_gen && !hazard"); }}}),
            [&](Block&) {});
  });
  m.assign(issue, "running && head_valid && can_issue && !done");
  const auto issue_to = m.wire("issue_to", 4);  // one-hot: LD, PL, EX, ST
  m.assign(issue_to, fmt::format("(issue && !{} && !{}) ? (4'd1 << unit) : 4'd0", is(Opcode::Config), is(Opcode::Halt)));

  if (!serial) {
  // Scoreboard bookkeeping per unit.
  for (std::size_t u = 0; u < 4; ++u) {
    const std::string& n = unit_names[u];
    const auto& tr = tracked[u];
    std::string bits;
    for (auto t = tr.rbegin(); t != tr.rend(); ++t) bits += fmt::format("{}{}[{}]", bits.empty() ? "" : ", ", t->write ? "wr_mask" : "rd_mask", t->resource);
    m.assign(n + "_mfifo_we", fmt::format("!(rst || start) && issue_to[{}]", u));  // FIFO writes wait for the reset, as the pointers do
    m.assign(n + "_mfifo_wa", n + "_mtail");
    m.assign(n + "_mfifo_wd", "{" + bits + "}");
    read_port(m, mask_fifos[u], n + "_popped", advanced(n + "_mhead", n + "_complete", fifo_aw), true);
    m.always_ff(clk, [&](Block& b) {
      b.if_(fmt::format("rst || start"),
            [&](Block& t) {
              t.assign(n + "_mhead", fmt::format("{}'d0", fifo_aw)).assign(n + "_mtail", fmt::format("{}'d0", fifo_aw));
              t.assign(n + "_inflight", fmt::format("{}'d0", fifo_aw + 1));
              for (const auto& k : tr) t.assign(fmt::format("{}_{}c{}", n, k.write ? 'w' : 'r', k.resource), fmt::format("{}'d0", cnt_w));
            },
            [&](Block& e) {
              const std::string inc = fmt::format("issue_to[{}]", u), dec = n + "_complete";
              e.if_(inc, [&](Block& t) { t.assign(n + "_mtail", fmt::format("{}_mtail + {}'d1", n, fifo_aw)); });
              e.if_(dec, [&](Block& t) { t.assign(n + "_mhead", fmt::format("{}_mhead + {}'d1", n, fifo_aw)); });
              e.assign(n + "_inflight", fmt::format("{0}_inflight + {{{1}'d0, {2}}} - {{{1}'d0, {3}}}", n, fifo_aw, inc, dec));
              for (std::size_t k = 0; k < tr.size(); ++k) {
                const std::string c = fmt::format("{}_{}c{}", n, tr[k].write ? 'w' : 'r', tr[k].resource);
                e.assign(c, fmt::format("{0} + {{{1}'d0, {2} && {3}[{4}]}} - {{{1}'d0, {5} && {6}_popped[{7}]}}", c, cnt_w - 1, inc,
                                        tr[k].write ? "wr_mask" : "rd_mask", tr[k].resource, dec, n, k));
              }
            });
    });
  }

  }
  if (serial) {
    m.always_ff(clk, [&](Block& b) {
      b.if_("rst || start", [&](Block& t) { t.assign("in_flight", "1'b0"); },
            [&](Block& e) {
              e.if_("issue_to != 4'd0", [&](Block& t) { t.assign("in_flight", "1'b1"); },
                    [&](Block& t) {
                      std::string any;
                      for (const auto& n : unit_names) any += (any.empty() ? "" : " || ") + n + "_complete";
                      t.if_(any, [&](Block& x) { x.assign("in_flight", "1'b0"); });
                    });
            });
    });
  }

  // ---- control: start, fetch queue, CONFIG, HALT, counters ------------------------------------------------------
  m.lint_off("UNUSEDSIGNAL");  // the high bits of the beat counts
  m.assign(m.wire("cfg_in_beats", 16), line_beats(field(Opcode::Config, "in_bits")));
  m.assign(m.wire("cfg_res_beats", 16), line_beats(field(Opcode::Config, "res_bits")));
  m.lint_on("UNUSEDSIGNAL");
  const auto fetched_halt = m.wire("fetched_halt");
  m.assign(fetched_halt, fmt::format("imem_data[5:0] == 6'd{}", static_cast<int>(Opcode::Halt)));
  m.always_ff(clk, [&](Block& b) {
    b.if_("rst", [&](Block& t) {
      t.assign(running, "1'b0").assign(done, "1'b0").assign(error, "1'b0").assign(q_count, "3'd0").assign(inflight, "3'd0");
      t.assign(pc, "32'd0").assign(fetch_stop, "1'b0");
      if (QD > 1) t.assign(q_head, fmt::format("{}'d0", qaw)).assign(q_tail, fmt::format("{}'d0", qaw));
      t.assign(perf_cycles, "64'd0").assign(perf_stall, "64'd0").assign(perf_busy, "128'd0").assign(perf_configs, "32'd0").assign(perf_lines, "64'd0");
      for (const Signal& r : {in_bits, weight_bits, out_bits, res_bits, in_signed, res_signed, in_stride, out_stride, sat_lo, sat_hi})
        t.assign(r, fmt::format("{}'d0", r.width));
      t.assign(st_in_last, fmt::format("{{{}{{1'b1}}}}", beat_w)).assign(st_res_last, fmt::format("{{{}{{1'b1}}}}", beat_w));  // bits 0
    }, [&](Block& e) {
      e.if_("start", [&](Block& t) {
        t.assign(running, "1'b1").assign(done, "1'b0").assign(error, "1'b0").assign(pc, prog_addr).assign(fetch_stop, "1'b0");
        if (QD > 1) t.assign(q_head, fmt::format("{}'d0", qaw)).assign(q_tail, fmt::format("{}'d0", qaw));
        t.assign(q_count, "3'd0").assign(inflight, "3'd0");
        t.assign(perf_cycles, "64'd0").assign(perf_stall, "64'd0").assign(perf_busy, "128'd0").assign(perf_configs, "32'd0").assign(perf_lines, "64'd0");
      }, [&](Block& t) {
        t.if_("fetch", [&](Block& x) { x.assign(pc, "pc + 32'd16"); });
        t.assign(inflight, "inflight + {2'd0, fetch} - {2'd0, fetched}");
        t.if_("fetched", [&](Block& x) {
          x.assign(fmt::format("q[{}]", q_tail), "imem_data");
          if (!serial) x.assign("qm[q_tail]", "{f_unit, f_wr_mask, f_rd_mask}");
          if (QD > 1) x.assign(q_tail, fmt::format("q_tail + {}'d1", qaw));
          x.if_("fetched_halt", [&](Block& y) { y.assign(fetch_stop, "1'b1"); });
        });
        t.assign(q_count, "q_count + {2'd0, fetched} - {2'd0, issue}");
        if (QD > 1) t.if_("issue", [&](Block& x) { x.assign(q_head, fmt::format("q_head + {}'d1", qaw)); });
        t.if_(fmt::format("issue && {}", is(Opcode::Config)), [&](Block& x) {
          x.assign(in_bits, field(Opcode::Config, "in_bits")).assign(in_signed, field(Opcode::Config, "in_signed"));
          x.assign(weight_bits, field(Opcode::Config, "weight_bits")).assign(out_bits, field(Opcode::Config, "out_bits"));
          x.assign(res_bits, field(Opcode::Config, "res_bits"));
          x.assign(st_in_last, fmt::format("cfg_in_beats[{}:0] - {}'d1", beat_w - 1, beat_w));
          x.assign(st_res_last, fmt::format("cfg_res_beats[{}:0] - {}'d1", beat_w - 1, beat_w));
          x.assign(res_signed, field(Opcode::Config, "res_signed")).assign(in_stride, field(Opcode::Config, "in_pixel_stride", SW));
          x.assign(out_stride, field(Opcode::Config, "out_pixel_stride", SW));
          const std::string rb = field(Opcode::Config, "out_range_bits");
          x.assign(sat_hi, fmt::format("{0} ? (({2}'sd1 <<< ({1} - 5'd1)) - {2}'sd1) : (({2}'sd1 <<< {1}) - {2}'sd1)", field(Opcode::Config, "out_signed"), rb, kSaturationBits));
          x.assign(sat_lo, fmt::format("{0} ? -({2}'sd1 <<< ({1} - 5'd1)) : {2}'sd0", field(Opcode::Config, "out_signed"), rb, kSaturationBits));
          x.assign(perf_configs, "perf_configs + 32'd1");
        });
        t.if_(fmt::format("issue && {}", is(Opcode::Halt)), [&](Block& x) { x.assign(done, "1'b1").assign(running, "1'b0"); });
        t.if_(fmt::format("running && head_valid && !can_issue && !({} || {} || {} || {} || {} || {} || {}{})", is(Opcode::Config), is(Opcode::Halt),
                          is(Opcode::Load), is(Opcode::Preload), is(Opcode::Matmul), is(Opcode::Store), is(Opcode::Vadd),
                          pool ? " || " + is(Opcode::Pool) : std::string()),
              [&](Block& x) { x.assign(error, "1'b1").assign(done, "1'b1").assign(running, "1'b0"); });
        t.if_("running", [&](Block& x) {
          x.assign(perf_cycles, "perf_cycles + 64'd1");
          x.if_("head_valid && !issue", [&](Block& y) { y.assign(perf_stall, "perf_stall + 64'd1"); });
          x.assign("perf_busy[31:0]", "perf_busy[31:0] + {31'd0, ld_gen}");
          x.assign("perf_busy[63:32]", "perf_busy[63:32] + {31'd0, pl_busy}");
          x.assign("perf_busy[95:64]", "perf_busy[95:64] + {31'd0, ex_busy}");
          x.assign("perf_busy[127:96]", "perf_busy[127:96] + {31'd0, st_busy}");
          x.if_("ex_busy", [&](Block& y) { y.assign(perf_lines, "perf_lines + 64'd1"); });
        });
      });
    });
  });

  // ---- buffers ------------------------------------------------------------------------------------------------
  // One write port each (LD; ACC: LD or EX) and synchronous reads. ACC is two memories, one per half of the
  // scoreboard: LD and EX may write it in the same cycle, but never the same half (WAW), and EX's and ST's reads
  // never meet in one half (RAW/WAR), so each half needs one write and one read port.
  const auto spad = sync_memory(m, "spad", R * w.act, cfg.spad_lines());
  const auto wbuf = sync_memory(m, "wbuf", C * w.weight, cfg.wbuf_lines());
  // PARAM: one memory line per PARAM line, or, with fewer post-processing lanes than columns, one per group of PLN
  // entries (the lanes read one group per cycle; a C x 72-bit line would cost its width in block RAMs). LOAD then
  // writes each group in the cycle of the beat that completes it, which is at most one group per beat when a
  // group is at least a beat (PARAM lines are never padded: docs/isa.md).
  const int G = cfg.post_groups(), PLN = cfg.post_lane_count();  // post-processing: groups per line, lanes
  const int D = cfg.post_mult_cycles, LC = cfg.lane_cycles();      // cycles per element in a lane, per line
  const int gw = clog2(G), digit_w = clog2(D);
  const int group_bytes = packing::kParamEntryBytes * PLN;  // a group of PLN PARAM entries
  const bool param_by_group = G > 1 && group_bytes >= P;
  // the beats of a PARAM line that hold group g's first and last bytes
  auto group_first_beat = [&](int g) { return g * group_bytes / P; };
  auto group_last_beat = [&](int g) { return ((g + 1) * group_bytes - 1) / P; };
  const auto param = param_by_group ? sync_memory(m, "param", PLN * param_entry, cfg.param_lines() * G)
                                    : sync_memory(m, "param", C * param_entry, cfg.param_lines());
  // the memory address of PARAM line `line` (param_aw bits), group `group` (gw bits)
  auto param_address = [&](const std::string& line, const std::string& group) {
    const int aw = param.address_bits;
    return fmt::format("{} * {}'d{} + {}", fit(line, param_aw, aw), aw, G, fit(group, gw, aw));
  };
  // ACC in two memories, its halves, so that EX accumulates into one while ST reads or LD writes the other; with
  // serial issue no two units run at once: one memory
  const std::int64_t acc_half = serial ? cfg.acc_lines() : timing::upper_half(cfg.acc_lines());
  std::vector<std::pair<SyncMemory, std::int64_t>> acc_banks = {{sync_memory(m, "acc0", C * w.psum, acc_half), 0}};
  if (cfg.acc_lines() > acc_half) acc_banks.push_back({sync_memory(m, "acc1", C * w.psum, cfg.acc_lines() - acc_half), acc_half});

  // ---- the read channel's response path: a FIFO of what each request (and each padding line) is for ------------
  // entry: [0] dest (0 LD, 1 ST), [1] zero line, [2] empty instruction, [3] last beat of its line, [4] last of
  // its LD instruction, [5 +: beat_w] beat, then buf (2), line (16), st_b (VADD: b line), st_first, st_last (POOL taps)
  const int mw = 5 + beat_w + 2 + 16 + (pool ? 3 : 1);
  const int mfifo_aw = 6;
  const auto meta = sync_memory(m, "meta", mw, 1 << mfifo_aw);
  m.reg("meta_head", mfifo_aw);
  m.reg("meta_tail", mfifo_aw);
  m.reg("meta_count", mfifo_aw + 1);
  const auto resp = sync_memory(m, "resp", PB, 1 << mfifo_aw);
  m.reg("resp_head", mfifo_aw);
  m.reg("resp_tail", mfifo_aw);
  m.reg("resp_count", mfifo_aw + 1);
  const auto meta_full = m.wire("meta_full");
  m.assign(meta_full, fmt::format("meta_count >= {}'d{}", mfifo_aw + 1, (1 << mfifo_aw) - 1));
  const auto pop = m.wire("meta_pop");
  const auto resp_pop = m.wire("resp_pop");
  const std::string head = read_port(m, meta, "head", advanced("meta_head", "meta_pop", mfifo_aw), true);
  const auto head_ok = m.wire("head_ok");  // the head entry can be processed this cycle
  if (LC > 1) m.wire("st_hold");  // ST cannot take the head's line yet (its lanes are busy): driven below
  m.assign(head_ok, fmt::format("meta_count != {}'d0 && (head[1] || head[2] || resp_count != {}'d0){}", mfifo_aw + 1, mfifo_aw + 1, LC > 1 ? " && !st_hold" : ""));
  const auto head_beat = m.wire("head_beat", beat_w);
  m.assign(head_beat, fmt::format("head[{}:5]", 5 + beat_w - 1));
  const int hb = 5 + beat_w;  // first bit after the beat
  const auto push = m.wire("meta_push"), push_entry = m.wire("meta_entry", mw);
  m.assign(pop, "head_ok");
  const std::string resp_data = read_port(m, resp, "resp_data", advanced("resp_head", "resp_pop", mfifo_aw), true);
  m.assign("meta_we", "!(rst || start) && meta_push");
  m.assign("meta_wa", "meta_tail");
  m.assign("meta_wd", "meta_entry");
  m.assign("resp_we", "!(rst || start) && rd_valid");
  m.assign("resp_wa", "resp_tail");
  m.assign("resp_wd", "rd_data");
  m.assign(resp_pop, "head_ok && !head[1] && !head[2]");
  // line assembly: the beats of the head's line so far, and the whole line once its last beat is here. lb is zero
  // between lines (cleared by reset and after each line's last beat), so a padding line (head[1], beat 0) is zero
  // once its one beat slot is: the buffers' write data need no zero gating of their own.
  // With PARAM written a group at a time, lb is a window of the last `window` beats, beat j in slot j mod window: a
  // PARAM line (9 bytes per column) is the longest, but only one group's beats are ever needed at once, and each
  // group's bytes lie at fixed slots (window_bits), so the window costs no multiplexer beyond a slot's own.
  int window = max_beats;
  if (param_by_group) {
    // every other line, whole: SPAD and WBUF lines, ACC lines (int32), and the C lanes of at most 16 bits ST reads
    window = beats(std::max({(cfg.spad_line_bits() + 7) / 8, (cfg.wbuf_line_bits() + 7) / 8, 4 * C}));
    for (int g = 0; g < G; ++g) window = std::max(window, group_last_beat(g) - group_first_beat(g) + 1);
  }
  const int WB = window * PB;
  const auto lb = m.reg("lb", WB);
  const auto full_line = m.wire("full_line", WB);
  const auto beat_in = m.wire("beat_in", PB);
  m.assign(beat_in, fmt::format("head[1] ? {}'d0 : {}", PB, resp_data));
  {
    // one multiplexer per beat slot (not a shifter across the line)
    std::string cat;
    for (int slot = window - 1; slot >= 0; --slot) {
      std::string here;
      for (int beat = slot; beat < max_beats; beat += window)
        here += fmt::format("{}head_beat == {}'d{}", here.empty() ? "" : " || ", beat_w, beat);
      cat += fmt::format("{}({}) ? beat_in : lb[{}:{}]", cat.empty() ? "" : ", ", here, slot * PB + PB - 1, slot * PB);
    }
    m.assign(full_line, "{" + cat + "}");
  }
  // bits [hi:lo] of the head's line in the window (a line longer than the window: the part its slots hold now), as a
  // list of full_line's slices, most significant first
  auto window_bits = [&](int hi, int lo) {
    std::string cat;
    for (int top = hi; top >= lo;) {
      const int bottom = std::max(lo, top - top % WB);
      cat += fmt::format("{}full_line[{}:{}]", cat.empty() ? "" : ", ", top % WB, bottom % WB);
      top = bottom - 1;
    }
    return cat;
  };
  m.always_ff(clk, [&](Block& b) {
    b.if_("rst || start", [&](Block& t) {
      t.assign("meta_head", fmt::format("{}'d0", mfifo_aw)).assign("meta_tail", fmt::format("{}'d0", mfifo_aw)).assign("meta_count", fmt::format("{}'d0", mfifo_aw + 1));
      t.assign("resp_head", fmt::format("{}'d0", mfifo_aw)).assign("resp_tail", fmt::format("{}'d0", mfifo_aw)).assign("resp_count", fmt::format("{}'d0", mfifo_aw + 1));
    }, [&](Block& e) {
      e.if_("meta_push", [&](Block& t) { t.assign("meta_tail", fmt::format("meta_tail + {}'d1", mfifo_aw)); });
      e.if_("meta_pop", [&](Block& t) { t.assign("meta_head", fmt::format("meta_head + {}'d1", mfifo_aw)); });
      e.assign("meta_count", fmt::format("meta_count + {{{0}'d0, meta_push}} - {{{0}'d0, meta_pop}}", mfifo_aw));
      e.if_("rd_valid", [&](Block& t) { t.assign("resp_tail", fmt::format("resp_tail + {}'d1", mfifo_aw)); });
      e.if_("resp_pop", [&](Block& t) { t.assign("resp_head", fmt::format("resp_head + {}'d1", mfifo_aw)); });
      e.assign("resp_count", fmt::format("resp_count + {{{0}'d0, rd_valid}} - {{{0}'d0, resp_pop}}", mfifo_aw));
    });
  });

  // lb: one clear condition (reset, or the last beat of a line), which maps onto the flip-flops' synchronous reset
  m.always_ff(clk, [&](Block& b) {
    b.if_("rst || start || (head_ok && !head[1] && !head[2] && head[3])", [&](Block& t) { t.assign(lb, fmt::format("{}'d0", WB)); },
          [&](Block& e) { e.if_("head_ok && !head[1] && !head[2]", [&](Block& t) { t.assign(lb, "full_line"); }); });
  });

  // ---- LD: the request generator --------------------------------------------------------------------------------
  const Regs ld_regs = {
           {"ld_b", 2}, {"ld_row_dram", AW}, {"ld_col_dram", AW}, {"ld_row_sram", 16}, {"ld_sram", 16}, {"ld_y", 11}, {"ld_x", 11},
           {"ld_ylast", 11}, {"ld_xlast", 11}, {"ld_pt1", 11}, {"ld_pl1", 11}, {"ld_ye1", 11}, {"ld_xe1", 11}, {"ld_iny", 1}, {"ld_inx", 1}, {"ld_inx0", 1}, {"ld_dstride", DW},
           {"ld_sstride", 12}, {"ld_pitch", SW}, {"ld_beats", beat_w}, {"ld_beat", beat_w}};
  for (const auto& [name, width] : ld_regs) m.reg(name, width);
  const auto ld_inside = m.wire("ld_inside"), ld_last_pos = m.wire("ld_last_pos"), ld_step = m.wire("ld_step"), ld_req = m.wire("ld_req");
  // inside the block: pad_top <= y < pad_top + count_y, and likewise x, kept in two flags (ld_iny, ld_inx) updated
  // as the walk steps by one: a position enters the block after the one at pad - 1 (ld_pt1, ld_pl1; all ones, a
  // position the walk never reaches, when the block has no rows or columns) and leaves it after pad + count - 1
  // (ld_ye1, ld_xe1); ld_inx0 is whether column 0 is inside, for each new row. So no comparison of magnitudes lies
  // between the walk's registers and the read metadata FIFO.
  m.assign(ld_inside, "ld_iny && ld_inx");
  m.assign(ld_last_pos, "(ld_y == ld_ylast) && (ld_x == ld_xlast)");
  m.assign(ld_req, "ld_gen && ld_inside && !meta_full");
  // a position is done when its padding entry is pushed, or the last beat of its line is requested
  m.assign(ld_step, "ld_gen && !meta_full && (!ld_inside || (rd_ready && ld_beat == ld_beats - 1))");
  const auto ld_line_bytes = m.wire("ld_line_bytes", 20);
  const auto wbits20 = "{15'd0, weight_bits}", ibits20 = "{15'd0, in_bits}";
  // SPAD and WBUF lines hold products x rows (cols) lanes: shifted left by log2(products) on a scalable array
  auto lanes_bits = [&](int lanes, const std::string& bits) {
    const std::string product = fmt::format("20'd{} * {}", lanes, bits);
    return cfg.scalable ? fmt::format("({}) << ({{1'b0, sc_mode[0]}} + {{1'b0, sc_mode[1]}})", product) : product;
  };
  m.assign(ld_line_bytes, fmt::format("({0} == 2'd0) ? (({1}) >> 3) : ({0} == 2'd1) ? (({2}) >> 3) : ({0} == 2'd2) ? 20'd{3} : 20'd{4}",
                                      field(Opcode::Load, "buffer"), lanes_bits(R, ibits20), lanes_bits(C, wbits20), 4 * C,
                                      packing::kParamEntryBytes * C));
  m.lint_off("UNUSEDSIGNAL");  // bits unused in some configurations
  const auto ld_beats_now = m.wire("ld_beats_now", 20);
  m.lint_on("UNUSEDSIGNAL");
  m.assign(ld_beats_now, beats_of("ld_line_bytes", 20));
  m.always_ff(clk, [&](Block& b) {
    b.if_("rst || start", [&](Block& t) { t.assign(ld_gen, "1'b0"); }, [&](Block& e) {
      e.if_("ld_req && rd_ready && ld_beat != ld_beats - 1", [&](Block& t) { t.assign("ld_beat", fmt::format("ld_beat + {}'d1", beat_w)); });
      e.if_("ld_step", [&](Block& t) {
        t.assign("ld_beat", fmt::format("{}'d0", beat_w));
        t.if_("ld_inside", [&](Block& x) { x.assign("ld_col_dram", "ld_col_dram + " + fit("ld_pitch", SW, AW)); });
        t.if_("ld_x == ld_xlast", [&](Block& x) {
          x.assign("ld_x", "11'd0").assign("ld_y", "ld_y + 11'd1");
          x.assign("ld_inx", "ld_inx0").assign("ld_iny", "ld_iny ? ld_y != ld_ye1 : ld_y == ld_pt1");
          x.assign("ld_row_sram", "ld_row_sram + {4'd0, ld_sstride}").assign("ld_sram", "ld_row_sram + {4'd0, ld_sstride}");
          x.if_("ld_iny",
                [&](Block& y) {
                  y.assign("ld_row_dram", "ld_row_dram + " + fit("ld_dstride", DW, AW)).assign("ld_col_dram", "ld_row_dram + " + fit("ld_dstride", DW, AW));
                },
                [&](Block& y) { y.assign("ld_col_dram", "ld_row_dram"); });
        }, [&](Block& x) {
          x.assign("ld_x", "ld_x + 11'd1").assign("ld_sram", "ld_sram + 16'd1");
          x.assign("ld_inx", "ld_inx ? ld_x != ld_xe1 : ld_x == ld_pl1");
        });
        t.if_("ld_last_pos", [&](Block& x) { x.assign(ld_gen, "1'b0"); });
      });
      // issue last: a new instruction may issue in the cycle the previous one finishes
      e.if_("issue_to[0]", [&](Block& t) {
        t.assign("ld_b", field(Opcode::Load, "buffer"));
        t.assign("ld_row_dram", field(Opcode::Load, "dram_addr", AW)).assign("ld_col_dram", field(Opcode::Load, "dram_addr", AW));
        t.assign("ld_row_sram", field(Opcode::Load, "sram_addr")).assign("ld_sram", field(Opcode::Load, "sram_addr"));
        t.assign("ld_y", "11'd0").assign("ld_x", "11'd0").assign("ld_ylast", "ld_h - 11'd1").assign("ld_xlast", "ld_w - 11'd1");
        // per axis: the entry and exit positions (above) and whether position 0 is inside
        for (const auto& [axis, entry, pad, count] : {std::tuple{"y", "ld_pt1", "pad_top", "count_y"}, std::tuple{"x", "ld_pl1", "pad_left", "count_x"}}) {
          const auto p = field(Opcode::Load, pad), c = field(Opcode::Load, count);
          const auto none = fmt::format("{} == {}'d0", c, field_width(Opcode::Load, count));
          const auto first_inside = fmt::format("{} == {}'d0 && !({})", p, field_width(Opcode::Load, pad), none);
          t.assign(entry, fmt::format("({}) ? 11'h7ff : {{7'd0, {}}} - 11'd1", none, p));
          t.assign(fmt::format("ld_{}e1", axis), fmt::format("{{7'd0, {}}} + {{1'd0, {}}} - 11'd1", p, c));
          t.assign(fmt::format("ld_in{}", axis), first_inside);
          if (axis == std::string_view("x")) t.assign("ld_inx0", first_inside);
        }
        t.assign("ld_dstride", field(Opcode::Load, "dram_stride_y", DW)).assign("ld_sstride", field(Opcode::Load, "sram_stride_y"));
        t.assign("ld_pitch", fmt::format("({0} == 2'd0) ? in_stride : {1}", field(Opcode::Load, "buffer"), fit("ld_line_bytes", 20, SW)));
        t.assign("ld_beats", fmt::format("ld_beats_now[{}:0]", beat_w - 1));
        t.assign("ld_beat", fmt::format("{}'d0", beat_w));
        t.assign(ld_gen, "!ld_empty");
      });
    });
    zero_on_reset(b, ld_regs);
  });

  // ---- LD: responses into the buffers -----------------------------------------------------------------------------
  const auto ld_head = m.wire("ld_head");  // the head entry is LD's and is processed this cycle
  m.assign(ld_head, "head_ok && !head[0]");
  m.assign("ld_complete", "ld_head && (head[2] || head[4])");
  m.lint_off("UNUSEDSIGNAL");  // bits unused in some configurations
  const auto head_buf = m.wire("head_buf", 2), head_line = m.wire("head_line", 16);
  m.lint_on("UNUSEDSIGNAL");
  m.assign(head_buf, fmt::format("head[{}:{}]", hb + 1, hb));
  m.assign(head_line, fmt::format("head[{}:{}]", hb + 17, hb + 2));
  const auto write_line = m.wire("ld_write");  // a whole line (or a padding line) is written this cycle
  m.assign(write_line, "ld_head && !head[2] && (head[1] || head[3])");
  // Unpacking a line of `lanes` lanes of `bits_reg` bits (one of `widths`; any other width gives zeros) into lanes of
  // `to` bits, sign-extended when `is_signed`. Per lane: the raw field at the widest width (a multiplexer over the
  // widths), then the bits above the field's width set to its sign through one mask shared by all lanes.
  auto lane_mux = [&](const std::string& name, int lanes, int to, const std::vector<int>& widths, const std::string& bits_reg,
                      const std::string& is_signed, const std::string& src) {
    const int maxw = widths.back();
    const auto keep = m.wire(name + "_keep", maxw);  // the field's own bits
    std::string keep_expr = fmt::format("{}'d0", maxw);
    for (int bits : widths) keep_expr = fmt::format("({} == 5'd{}) ? {}'d{} : {}", bits_reg, bits, maxw, (1ULL << bits) - 1, keep_expr);
    m.assign(keep, keep_expr);
    const auto out = m.wire(name, lanes * to);
    std::string cat;
    for (int lane = lanes - 1; lane >= 0; --lane) {
      std::string raw = fmt::format("{}'d0", maxw), sign = "1'b0";
      for (int bits : widths) {
        const std::string v = fmt::format("{}[{}:{}]", src, lane * bits + bits - 1, lane * bits);
        raw = fmt::format("({} == 5'd{}) ? {} : {}", bits_reg, bits, bits == maxw ? v : fmt::format("{{{}'d0, {}}}", maxw - bits, v), raw);
        sign = fmt::format("({} == 5'd{}) ? {}[{}] : {}", bits_reg, bits, src, lane * bits + bits - 1, sign);
      }
      const auto r = m.wire(fmt::format("{}_raw{}", name, lane), maxw), s = m.wire(fmt::format("{}_sign{}", name, lane));
      m.assign(r, raw);
      m.assign(s, fmt::format("{} && ({})", is_signed, sign));
      const std::string low = fmt::format("{} | ({{{}{{{}}}}} & ~{})", r.name, maxw, s.name, keep.name);
      cat += (cat.empty() ? "" : ", ") + (to == maxw ? "(" + low + ")" : fmt::format("{{{}{{{}}}}}, ({})", to - maxw, s.name, low));
    }
    m.assign(out, "{" + cat + "}");
    return out.name;
  };
  std::string spad_in, wbuf_in;
  if (!cfg.scalable) {
    spad_in = lane_mux("spad_in", R, w.act, lane_widths(std::min(cfg.act_bits, 16)), "in_bits", "in_signed", "full_line");
    wbuf_in = lane_mux("wbuf_in", C, w.weight, lane_widths(std::min(cfg.weight_bits, 16)), "weight_bits", "1'b1", "full_line");
  } else {
    // A PE row's (column's) word: four nibbles, one per multiplier, in the order the PE takes them (docs/hw.md,
    // "Precision-scalable PE"). The DRAM lanes are unpacked as bytes (8-bit operands) or nibbles (2- and 4-bit
    // operands, extended); per mode, nibble k of word i is nibble (per_word·i + offset[k]) of one of them.
    struct Layout {
      bool bytes;
      int per_word;
      std::array<int, 4> offset;
    };
    auto arrange = [&](const std::string& name, int words, const std::string& bits, const std::string& is_signed,
                       const std::array<Layout, 4>& layouts) {
      const auto bytes = lane_mux(name + "_b", 2 * words, 8, {8}, bits, is_signed, "full_line");
      const auto nibbles = lane_mux(name + "_n", 4 * words, 4, {2, 4}, bits, is_signed, "full_line");
      std::array<std::string, 4> by_mode;
      for (std::size_t mode = 0; mode < 4; ++mode) {
        const Layout& l = layouts[mode];
        std::string cat;
        for (int word = words - 1; word >= 0; --word)
          for (int k = 3; k >= 0; --k) {
            const int n = l.per_word * word + l.offset[static_cast<std::size_t>(k)];
            cat += fmt::format("{}{}[{}:{}]", cat.empty() ? "" : ", ", l.bytes ? bytes : nibbles, 4 * n + 3, 4 * n);
          }
        by_mode[mode] = "{" + cat + "}";
      }
      const auto out = m.wire(name, 16 * words);
      m.assign(out, fmt::format("(sc_mode[1:0] == 2'd0) ? {} : (sc_mode[1:0] == 2'd1) ? {} : (sc_mode[1:0] == 2'd2) ? {} : {}", by_mode[0],
                                by_mode[1], by_mode[2], by_mode[3]));
      return out.name;
    };
    // by mode W8A8, W8A4, W4A8, W4A4. Activations: [vL, vL, vH, vH], [a0, a0, a1, a1], [v0L, v0H, v1L, v1H], [a0, a1, a2, a3]
    spad_in = arrange("spad_in", R, "in_bits", "in_signed",
                      {Layout{true, 2, {0, 0, 1, 1}}, Layout{false, 2, {0, 0, 1, 1}}, Layout{true, 4, {0, 1, 2, 3}}, Layout{false, 4, {0, 1, 2, 3}}});
    // weights: [wL, wH, wL, wH], [w0L, w0H, w1L, w1H], [w0, w0, w1, w1], [w0, w1, w2, w3]
    wbuf_in = arrange("wbuf_in", C, "weight_bits", "1'b1",
                      {Layout{true, 2, {0, 1, 0, 1}}, Layout{true, 4, {0, 1, 2, 3}}, Layout{false, 2, {0, 0, 1, 1}}, Layout{false, 4, {0, 1, 2, 3}}});
  }
  const auto acc_in = m.wire("acc_in", C * w.psum);
  {
    std::string a;
    for (int c = C - 1; c >= 0; --c) a += fmt::format("{}full_line[{}:{}]", a.empty() ? "" : ", ", c * 32 + w.psum - 1, c * 32);
    m.assign(acc_in, "{" + a + "}");
  }
  // PARAM entries c_first to c_last (a, b and shift: the first param_entry bits of each 9-byte entry)
  auto param_entries = [&](int c_last, int c_first) {
    std::string p;
    for (int c = c_last; c >= c_first; --c) {
      const int e = c * 8 * packing::kParamEntryBytes;
      p += (p.empty() ? "" : ", ") + window_bits(e + param_entry - 1, e);
    }
    return "{" + p + "}";
  };
  m.assign("spad_we", "ld_write && head_buf == 2'd0");
  m.assign("spad_wa", fmt::format("head_line[{}:0]", spad.address_bits - 1));
  m.assign("spad_wd", spad_in);
  m.assign("wbuf_we", "ld_write && head_buf == 2'd1");
  m.assign("wbuf_wa", fmt::format("head_line[{}:0]", wbuf.address_bits - 1));
  m.assign("wbuf_wd", wbuf_in);
  if (!param_by_group) {
    m.assign("param_we", "ld_write && head_buf == 2'd3");
    m.assign("param_wa", fmt::format("head_line[{}:0]", param.address_bits - 1));
    m.assign("param_wd", param_entries(C - 1, 0));
  } else {
    // group g is complete at the beat holding its last byte
    std::string complete = "1'b0", group = fmt::format("{}'d0", gw), data = fmt::format("{}'d0", PLN * param_entry);
    for (int g = 0; g < G; ++g) {
      const int beat = group_last_beat(g);
      const std::string here = fmt::format("(head_beat == {}'d{})", beat_w, beat);
      complete += " || " + here;
      group = fmt::format("{} ? {}'d{} : {}", here, gw, g, group);
      data = fmt::format("{} ? {} : {}", here, param_entries((g + 1) * PLN - 1, g * PLN), data);
    }
    m.assign(m.wire("param_group", gw), group);
    m.assign("param_we", fmt::format("ld_head && !head[2] && !head[1] && head_buf == 2'd3 && ({})", complete));
    m.assign("param_wa", param_address(fmt::format("head_line[{}:0]", param_aw - 1), "param_group"));
    m.assign("param_wd", data);
  }

  // ---- PL: PRELOAD ------------------------------------------------------------------------------------------------
  const int k_w = clog2(R + 1);
  const Regs pl_regs = {{"pl_k", k_w}, {"pl_base", 16}, {"pl_bank", 1}};
  for (const auto& [name, width] : pl_regs) m.reg(name, width);
  m.lint_off("UNUSEDSIGNAL");  // bits unused in some configurations
  const auto pl_line = m.wire("pl_line", 16);
  m.lint_on("UNUSEDSIGNAL");
  m.assign(pl_line, fmt::format("pl_base + 16'd{} - {{{}'d0, pl_k}}", R - 1, 16 - k_w));
  m.assign("pl_complete", fmt::format("pl_busy && pl_k == {}'d{}", k_w, R - 1));
  m.always_ff(clk, [&](Block& b) {
    b.if_("rst || start", [&](Block& t) { t.assign(pl_busy, "1'b0"); }, [&](Block& e) {
      e.if_("pl_busy", [&](Block& t) {
        t.assign("pl_k", fmt::format("pl_k + {}'d1", k_w));
        t.if_("pl_complete", [&](Block& x) { x.assign(pl_busy, "1'b0"); });
      });
      // issue last: a new instruction may issue in the cycle the previous one finishes
      e.if_("issue_to[1]", [&](Block& t) {
        t.assign(pl_busy, "1'b1").assign("pl_k", fmt::format("{}'d0", k_w)).assign("pl_base", field(Opcode::Preload, "wbuf_addr")).assign("pl_bank", field(Opcode::Preload, "bank"));
      });
    });
    zero_on_reset(b, pl_regs);
  });

  // ---- EX: MATMUL ---------------------------------------------------------------------------------------------------
  const Regs ex_regs = {
           {"ex_bank", 1}, {"ex_row_spad", spad_aw}, {"ex_spad", spad_aw}, {"ex_sx", std::min(4, spad_aw)}, {"ex_sy", std::min(12, spad_aw)}, {"ex_row_acc", acc_aw}, {"ex_acc", acc_aw},
           {"ex_asy", std::min(12, acc_aw)}, {"ex_y", 10}, {"ex_x", 10}, {"ex_cy1", 10}, {"ex_cx2", 10}, {"ex_xend", 1}, {"ex_xone", 1}, {"ex_accum", 1}, {"ex_empty", 1}};
  for (const auto& [name, width] : ex_regs) m.reg(name, width);
  const int L = array_latency(cfg);
  const int dw = 3 + acc_aw;  // valid, last, accumulate, ACC line
  // (with delay_memory the valid and last bits stay in flip-flops, the accumulate bit and the ACC line go in memory)
  const bool ex_in_memory = cfg.delay_memory && L >= 3;
  const auto ex_delay = ex_in_memory ? Signal{} : m.reg("ex_delay", L * dw);
  const auto ex_last = m.wire("ex_last");
  // ex_cy1: count_y less one, at issue. Whether x is the row's last column is a flag (ex_xend), set when the walk
  // steps onto it (x reaches count_x - 2, ex_cx2, or a row of one column starts: ex_xone), so that no comparison
  // lies before the SPAD read address; the STORE's walk does the same (st_xend)
  m.assign(ex_last, "ex_y == ex_cy1 && ex_xend");
  const auto ex_in = m.wire("ex_in", dw);  // entering the delay line this cycle
  m.assign(ex_in, fmt::format("ex_busy ? {{1'b1, ex_last, ex_accum, ex_acc}} : (ex_empty ? {{1'b0, 1'b1, 1'b0, {1}'d0}} : {0}'d0)", dw, acc_aw));
  const auto a_line = m.wire("a_line", R * w.act), out_line = m.wire("out_line", C * w.psum), out_valid = m.wire("out_valid");
  // the SPAD line of the next cycle (ex_spad's next value: a MATMUL issues, or the walk advances)
  const auto ex_spad_next = m.wire("ex_spad_next", spad_aw);
  m.assign(ex_spad_next, fmt::format("issue_to[2] ? {} : (ex_busy ? (ex_xend ? ex_row_spad + {} : ex_spad + {}) : ex_spad)",
                                     mm_sfirst, fit("ex_sy", std::min(12, spad_aw), spad_aw), fit("ex_sx", std::min(4, spad_aw), spad_aw)));
  m.assign(a_line, read_port(m, spad, "spad_q", ex_spad_next.name, false));
  // the WBUF line of the next cycle (pl_line's next value: a PRELOAD issues, or the shift goes on)
  m.lint_off("UNUSEDSIGNAL");  // bits unused in some configurations
  const auto pl_line_next = m.wire("pl_line_next", 16);
  m.lint_on("UNUSEDSIGNAL");
  m.assign(pl_line_next, fmt::format("issue_to[1] ? {} + 16'd{} : (pl_busy ? pl_line - 16'd1 : pl_line)", field(Opcode::Preload, "wbuf_addr"), R - 1));
  const std::string w_line = read_port(m, wbuf, "w_line", fmt::format("pl_line_next[{}:0]", std::min(wbuf_aw, 16) - 1), false);
  std::vector<std::pair<std::string, std::string>> array_ports = {
      {"clk", "clk"}, {"a_line", "a_line"}, {"a_valid", "ex_busy"}, {"a_bank", "ex_bank"}, {"w_line", "w_line"},
      {"w_shift", "pl_busy"}, {"w_bank", "pl_bank"}, {"out_line", "out_line"}, {"out_valid", "out_valid"}};
  if (cfg.scalable) array_ports.emplace_back("mode", "sc_mode");
  m.instance("faq_array", "array", array_ports);
  const auto ex_out = m.wire("ex_out", dw);
  m.lint_off("UNUSEDSIGNAL");  // the accumulate and last bits are not needed a cycle early
  const auto ex_next = m.wire("ex_next", dw);
  m.lint_on("UNUSEDSIGNAL");
  if (ex_in_memory) {
    const auto [last, before] = memory_delay(m, "ex_delay", "ex_in", dw, L, 2, true);
    m.assign(ex_out, last);
    m.assign(ex_next, before);
  } else {
    m.assign(ex_out, fmt::format("ex_delay[{}:{}]", L * dw - 1, (L - 1) * dw));
    m.assign(ex_next, L == 1 ? "ex_in" : fmt::format("ex_delay[{}:{}]", (L - 1) * dw - 1, (L - 2) * dw));
  }
  m.assign("ex_complete", fmt::format("ex_out[{}]", dw - 2));
  const auto ex_line = m.wire("ex_line", acc_aw);
  m.assign(ex_line, fmt::format("ex_out[{}:0]", acc_aw - 1));
  const auto acc_old = m.wire("acc_old", C * w.psum), acc_new = m.wire("acc_new", C * w.psum);
  m.assign(m.wire("ex_acc_write"), fmt::format("ex_out[{}] && out_valid", dw - 1));
  // ACC: per bank, one read port for EX (the line of the delay line's next stage, while it is valid) or else ST
  // (st_acc's next value), and one write port for EX (accumulated lines) or else LD
  const auto st_acc_next = m.wire("st_acc_next", acc_aw);
  m.assign(st_acc_next, fmt::format("(issue_to[3] && {}) ? {} : (store_feed ? (st_xend ? st_row_acc + {} : st_acc + {}'d1) : st_acc)",
                                    is(Opcode::Store), st_afirst, fit("st_asy", std::min(12, acc_aw), acc_aw), acc_aw));
  auto in_bank = [&](std::size_t bank, const std::string& line) {
    if (acc_banks.size() == 1) return std::string("1'b1");
    return fmt::format("({} {} {}'d{})", line, bank == 0 ? "<" : ">=", acc_aw, acc_half);
  };
  std::vector<std::string> acc_q;
  for (std::size_t k = 0; k < acc_banks.size(); ++k) {
    const auto& [bank, base] = acc_banks[k];
    const std::string n = bank.name;
    auto local = [&](const std::string& tag, const std::string& line) {
      m.lint_off("UNUSEDSIGNAL");  // the bank's address is narrower than a line number
      const auto full = m.wire(fmt::format("{}_{}_line", n, tag), acc_aw);
      m.lint_on("UNUSEDSIGNAL");
      m.assign(full, fmt::format("{} - {}'d{}", line, acc_aw, base));
      return fmt::format("{}[{}:0]", full.name, bank.address_bits - 1);
    };
    const std::string ex_here = fmt::format("(ex_acc_write && {})", in_bank(k, "ex_line"));
    m.assign(n + "_we", fmt::format("{} || (ld_write && head_buf == 2'd2 && {})", ex_here, in_bank(k, fmt::format("head_line[{}:0]", acc_aw - 1))));
    m.assign(n + "_wa", fmt::format("{} ? {} : {}", ex_here, local("ex", "ex_line"), local("ld", fmt::format("head_line[{}:0]", acc_aw - 1))));
    m.assign(n + "_wd", fmt::format("{} ? acc_new : acc_in", ex_here));
    const std::string ex_reads = fmt::format("(ex_next[{}] && {})", dw - 1, in_bank(k, fmt::format("ex_next[{}:0]", acc_aw - 1)));
    acc_q.push_back(read_port(m, bank, n + "_q", fmt::format("{} ? {} : {}", ex_reads, local("exn", fmt::format("ex_next[{}:0]", acc_aw - 1)),
                                                             local("st", "st_acc_next")), true));
  }
  m.assign(acc_old, acc_q.size() == 1 ? acc_q[0] : fmt::format("{} ? {} : {}", in_bank(1, "ex_line"), acc_q[1], acc_q[0]));
  {
    std::string cat;
    for (int c = C - 1; c >= 0; --c)
      cat += fmt::format("{}(ex_out[{}] ? acc_old[{}:{}] : {}'d0) + out_line[{}:{}]", cat.empty() ? "" : ", ", dw - 3, c * w.psum + w.psum - 1,
                         c * w.psum, w.psum, c * w.psum + w.psum - 1, c * w.psum);
    m.assign(acc_new, "{" + cat + "}");
  }
  m.always_ff(clk, [&](Block& b) {
    // the delay line carries the valid bits that complete MATMULs: reset, so that no phantom completion follows power-up
    if (!ex_in_memory)
      b.if_("rst", [&](Block& t) { t.assign(ex_delay, fmt::format("{}'d0", L * dw)); },
            [&](Block& t) { t.assign(ex_delay, L == 1 ? "ex_in" : fmt::format("{{ex_delay[{}:0], ex_in}}", (L - 1) * dw - 1)); });
    b.if_("rst || start", [&](Block& t) { t.assign(ex_busy, "1'b0").assign("ex_empty", "1'b0"); }, [&](Block& e) {
      e.assign("ex_empty", "issue_to[2] && !mm_lines");
      e.assign("ex_spad", ex_spad_next);
      e.if_("ex_busy", [&](Block& t) {
        t.if_("ex_xend", [&](Block& x) {
          x.assign("ex_x", "10'd0").assign("ex_y", "ex_y + 10'd1").assign("ex_xend", "ex_xone");
          x.assign("ex_row_spad", "ex_row_spad + " + fit("ex_sy", std::min(12, spad_aw), spad_aw));
          x.assign("ex_row_acc", "ex_row_acc + " + fit("ex_asy", std::min(12, acc_aw), acc_aw)).assign("ex_acc", "ex_row_acc + " + fit("ex_asy", std::min(12, acc_aw), acc_aw));
        }, [&](Block& x) {
          x.assign("ex_x", "ex_x + 10'd1").assign("ex_acc", fmt::format("ex_acc + {}'d1", acc_aw)).assign("ex_xend", "ex_x == ex_cx2");
        });
        t.if_("ex_last", [&](Block& x) { x.assign(ex_busy, "1'b0"); });
      });
      // issue last: a new instruction may issue in the cycle the previous one finishes
      e.if_("issue_to[2]", [&](Block& t) {
        t.assign(ex_busy, "mm_lines").assign("ex_bank", field(Opcode::Matmul, "bank"));
        t.assign("ex_row_spad", mm_sfirst).assign("ex_sx", field(Opcode::Matmul, "spad_stride_x", spad_aw));
        t.assign("ex_sy", field(Opcode::Matmul, "spad_stride_y", spad_aw)).assign("ex_row_acc", mm_afirst).assign("ex_acc", mm_afirst);
        t.assign("ex_asy", field(Opcode::Matmul, "acc_stride_y", acc_aw)).assign("ex_y", "10'd0").assign("ex_x", "10'd0");
        t.assign("ex_cy1", field(Opcode::Matmul, "count_y") + " - 10'd1").assign("ex_cx2", field(Opcode::Matmul, "count_x") + " - 10'd2").assign("ex_accum", field(Opcode::Matmul, "accumulate"));
        t.assign("ex_xone", field(Opcode::Matmul, "count_x") + " == 10'd1").assign("ex_xend", field(Opcode::Matmul, "count_x") + " == 10'd1");
      });
    });
    zero_on_reset(b, ex_regs);
  });

  // ---- ST: STORE, VADD, POOL ----------------------------------------------------------------------------------------
  // kinds: 0 STORE, 1 VADD, 2 POOL (one at a time). DRAM addresses: st_out, where the next output line goes, for
  // every kind; st_a and st_b, the lines VADD reads next (POOL reads from st_a); STORE keeps its current row's first
  // address in st_b. So the lanes' output is addressed by one register, without a multiplexer between kinds.
  Regs st_regs = {
           {"st_kind", 2}, {"st_feeding", 1}, {"st_y", 10}, {"st_x", 10}, {"st_cy1", 10}, {"st_cx2", 10}, {"st_xend", 1}, {"st_xone", 1}, {"st_none", 1}, {"st_row_acc", acc_aw}, {"st_acc", acc_aw},
           {"st_asy", std::min(12, acc_aw)}, {"st_dstride", DW}, {"st_pending", 6},
           {"st_a", AW}, {"st_b", AW}, {"st_out", AW}, {"st_count", 16}, {"st_n", 16}, {"st_which", 1},
           {"st_beat", beat_w}};
  if (pool)  // POOL's window and its walk
    st_regs.insert(st_regs.end(), {{"st_avg", 1}, {"st_in_h", 9}, {"st_in_w", 9}, {"st_out_w", 9}, {"st_k", 4},
           {"st_s", 3}, {"st_p", 2}, {"st_oy", 9}, {"st_ox", 9}, {"st_ky", 4}, {"st_kx", 4}, {"st_out_h", 9},
           {"st_by", 14}, {"st_bx", 14}, {"st_rp", AW}, {"st_prow", AW}, {"st_pcol", AW}, {"st_trow", AW}, {"st_tap", AW},
           {"st_pstart", 1}});
  for (const auto& [name, width] : st_regs) m.reg(name, width);
  m.lint_off("UNUSEDSIGNAL");  // bits unused in some configurations
  // ST's values from DRAM are lanes of at most 16 bits: 17 bits signed hold any of them, and kSumBits the sum of a
  // POOL window's taps (at most 15 x 15, from the kernel field: 25 bits)
  constexpr int kValueBits = kLaneValueBits;
  const int max_kernel = (1 << field_width(Opcode::Pool, "kernel")) - 1;
  const int kSumBits = kValueBits + static_cast<int>(std::bit_width(static_cast<unsigned>(max_kernel * max_kernel)));
  const auto st_aline = m.reg("st_aline", C * kValueBits);  // VADD's a line, unpacked when it arrives
  const auto st_param = m.reg("st_param", 12);
  m.lint_on("UNUSEDSIGNAL");
  if (pool) m.reg("st_pool", C * kSumBits);  // running max or sum of the pixel's taps
  // the PPU input this cycle
  const auto feed = m.wire("feed"), feed_x = m.wire("feed_x", C * 32), feed_y = m.wire("feed_y", C * kValueBits), feed_add = m.wire("feed_add");
  const auto feed_addr = m.wire("feed_addr", AW), feed_last = m.wire("feed_last"), feed_bypass = m.wire("feed_bypass");
  const auto pop_out = m.wire("out_pop");
  // Lines in flight from the PPU input to the output FIFO's pop: at most 32, the FIFO's depth (enough to cover the
  // DRAM latency of VADD and POOL reads at full rate).
  const auto st_credit = m.wire("st_credit");
  m.assign(st_credit, "st_pending < 6'd32");
  // bytes of a DRAM line at CONFIG's widths (cols lanes of at most 16 bits)
  m.lint_off("UNUSEDSIGNAL");  // the high bits of a and b's line bytes (VADD's steps at the address width)
  const auto in_bytes = m.wire("st_in_bytes", 16), res_bytes = m.wire("st_res_bytes", 16);
  m.lint_on("UNUSEDSIGNAL");
  const auto out_bytes = m.wire("st_out_bytes", 16);
  m.assign(in_bytes, line_bytes("in_bits"));
  m.assign(res_bytes, line_bytes("res_bits"));
  m.assign(out_bytes, line_bytes("out_bits"));
  // STORE: lines from ACC, one per cycle while there is credit
  const auto store_feed = m.wire("store_feed");
  // with fewer post-processing lanes than columns or digit-serial ones, a line enters their input register when it
  // is free (below)
  if (LC > 1) m.wire("pp_free");
  m.assign(store_feed, fmt::format("st_busy && st_kind == 2'd0 && st_feeding && st_credit{}", LC > 1 ? " && pp_free" : ""));
  const auto st_last_line = m.wire("st_last_line");
  // the STORE's last position (st_cy1: count_y less one, at issue; st_xend as EX's ex_xend), or none (st_none)
  m.assign(st_last_line, "st_none || (st_y == st_cy1 && st_xend)");
  const auto acc_read = m.wire("st_acc_line", C * w.psum);
  m.assign(acc_read, acc_q.size() == 1 ? acc_q[0] : fmt::format("{} ? {} : {}", in_bank(1, "st_acc"), acc_q[1], acc_q[0]));
  // VADD / POOL requests on the read channel
  const auto st_req = m.wire("st_req"), st_req_addr = m.wire("st_req_addr", AW), st_req_last_beat = m.wire("st_req_last_beat");
  if (pool) {
  const auto st_tap_first = m.wire("st_tap_first"), st_tap_last = m.wire("st_tap_last");
  // POOL window: valid taps ky in [ky0, ky1], kx in [kx0, kx1] of output pixel (oy, ox), whose window starts at
  // input row base_y = oy·s - p and column base_x = ox·s - p (st_by, st_bx: stepped by s, never multiplied).
  // 14-bit signed window arithmetic: o·s <= 511·7 fits 12 bits, minus the padding, and in - 1 - base >= -3578
  m.lint_off("UNUSEDSIGNAL");  // the top bits of the window bounds
  const auto base_y = m.wire("st_base_y", 14, true), base_x = m.wire("st_base_x", 14, true);
  m.assign(base_y, "$signed(st_by)");
  m.assign(base_x, "$signed(st_bx)");
  const auto ky0 = m.wire("st_ky0", 14, true), ky1 = m.wire("st_ky1", 14, true), kx0 = m.wire("st_kx0", 14, true), kx1 = m.wire("st_kx1", 14, true);
  m.lint_on("UNUSEDSIGNAL");
  m.assign(ky0, "(st_base_y < 0) ? -st_base_y : 14'sd0");
  m.assign(kx0, "(st_base_x < 0) ? -st_base_x : 14'sd0");
  m.assign(ky1, "($signed({5'd0, st_in_h}) - 14'sd1 - st_base_y < $signed({10'd0, st_k}) - 14'sd1) ? $signed({5'd0, st_in_h}) - 14'sd1 - st_base_y : $signed({10'd0, st_k}) - 14'sd1");
  m.assign(kx1, "($signed({5'd0, st_in_w}) - 14'sd1 - st_base_x < $signed({10'd0, st_k}) - 14'sd1) ? $signed({5'd0, st_in_w}) - 14'sd1 - st_base_x : $signed({10'd0, st_k}) - 14'sd1");
  // the tap requested now: the pixel's first valid tap at the start of a pixel, else the registers
  const auto eky = m.wire("st_eky", 4), ekx = m.wire("st_ekx", 4);
  m.assign(eky, "st_pstart ? st_ky0[3:0] : st_ky");
  m.assign(ekx, "st_pstart ? st_kx0[3:0] : st_kx");
  m.assign(st_tap_first, "$signed({10'd0, st_eky}) == st_ky0 && $signed({10'd0, st_ekx}) == st_kx0");
  m.assign(st_tap_last, "$signed({10'd0, st_eky}) == st_ky1 && $signed({10'd0, st_ekx}) == st_kx1");
  // The tap's DRAM address, walked instead of multiplied: st_prow is the address of the pixel's first valid input
  // row (max(base_y, 0), column 0), st_pcol the offset of its first valid column (max(base_x, 0) · in_stride), st_rp
  // the row pitch in_w · in_stride (one product per POOL); within the pixel st_trow and st_tap follow the taps.
  const auto cur_row = m.wire("st_cur_row", AW), tap_addr = m.wire("st_tap_addr", AW);
  m.assign(cur_row, "st_pstart ? st_prow : st_trow");
  m.assign(tap_addr, "st_pstart ? st_prow + st_pcol : st_tap");
  // the next pixel's window: its first valid row and column advance by d = max(b + s, 0) - max(b, 0), 0 to 7
  m.lint_off("UNUSEDSIGNAL");  // the high bits of the window steps
  const auto by_next = m.wire("st_by_next", 14), bx_next = m.wire("st_bx_next", 14), dy = m.wire("st_dy", 14), dx = m.wire("st_dx", 14);
  m.lint_on("UNUSEDSIGNAL");
  m.assign(by_next, "st_by + {11'd0, st_s}");
  m.assign(bx_next, "st_bx + {11'd0, st_s}");
  auto max0 = [](const std::string& v) { return fmt::format("({0}[13] ? 14'd0 : {0})", v); };
  m.assign(dy, max0("st_by_next") + " - " + max0("st_by"));
  m.assign(dx, max0("st_bx_next") + " - " + max0("st_bx"));
  auto times = [&](const std::string& d, const std::string& v) {  // d[2:0] · v by shifts and additions
    return fmt::format("({0}[0] ? {1} : {2}'d0) + ({0}[1] ? {{{1}[{3}:0], 1'b0}} : {2}'d0) + ({0}[2] ? {{{1}[{4}:0], 2'b0}} : {2}'d0)", d, v, AW, AW - 2, AW - 3);
  };
  const auto dy_rows = m.wire("st_dy_rows", AW), dx_cols = m.wire("st_dx_cols", AW);
  m.assign(dy_rows, times("st_dy", "st_rp"));
  m.lint_off("UNUSEDSIGNAL");  // the top bits of the pixel stride
  const auto stride32 = m.wire("st_stride32", AW);  // the pixel stride at the address width
  m.lint_on("UNUSEDSIGNAL");
  m.assign(stride32, fit("in_stride", SW, AW));
  m.assign(dx_cols, times("st_dx", "st_stride32"));
  }
  // a new VADD line or POOL pixel needs credit at its first request
  // the request belongs to the instruction's last VADD line (its b line) or last POOL pixel
  const auto st_final = m.wire("st_final");
  m.assign(st_final, pool ? "(st_kind == 2'd1) ? (st_which && st_n == st_count - 16'd1) : (st_oy == st_out_h - 9'd1 && st_ox == st_out_w - 9'd1)"
                          : "st_which && st_n == st_count - 16'd1");
  const auto st_new_unit = m.wire("st_new_unit");
  m.assign(st_new_unit, pool ? "st_beat == 0 && ((st_kind == 2'd1 && !st_which) || (st_kind == 2'd2 && st_tap_first))" : "st_beat == 0 && !st_which");
  m.assign(st_req, "st_reads && !meta_full && (!st_new_unit || st_credit)");
  m.assign(st_req_last_beat, "st_beat == ((st_kind == 2'd1 && st_which) ? st_res_last : st_in_last)");
  // VADD's st_a and st_b point at the current line of a and b (advanced after each b line)
  m.assign(st_req_addr, fmt::format("({}) + {}", pool ? "(st_kind == 2'd1) ? (st_which ? st_b : st_a) : st_tap_addr" : "st_which ? st_b : st_a",
                                    beat_bytes("st_beat", beat_w, AW)));
  // read channel: LD or ST (the issue stage never lets both generate)
  m.assign(rd_req, "ld_req || st_req");
  m.assign(rd_addr, port_address(fmt::format("ld_req ? (ld_col_dram + {}) : st_req_addr", beat_bytes("ld_beat", beat_w, AW))));
  const auto ld_nop = m.wire("ld_nop");
  m.assign(ld_nop, "issue_to[0] && ld_empty");
  m.assign(push, "ld_nop || (ld_gen && !meta_full && (!ld_inside || rd_ready)) || (st_req && rd_ready)");
  {
    // {st_last, st_first, st_b, line(16), buf(2), beat, last_instr, last_beat, nop, zero, dest}
    const std::string ld_entry = fmt::format(
        "{{{1}'d0, ld_sram, ld_b, ld_beat, (!ld_inside || ld_beat == ld_beats - {0}'d1) && ld_last_pos, !ld_inside || ld_beat == ld_beats - {0}'d1, 1'b0, !ld_inside, 1'b0}}",
        beat_w, pool ? 3 : 1);
    // ST's bit 4: a request of the instruction's last VADD line or POOL pixel
    const std::string st_entry = fmt::format("{{{}st_which, 16'd0, 2'd0, st_beat, st_final, st_req_last_beat, 1'b0, 1'b0, 1'b1}}",
                                             pool ? "st_tap_last, st_tap_first, " : "");
    const std::string nop_entry = fmt::format("{{{}'d0, 1'b1, 1'b0, 1'b1, 1'b0, 1'b0, 1'b0}}", mw - 6);
    m.assign(push_entry, fmt::format("ld_nop ? {} : (ld_gen ? {} : {})", nop_entry, ld_entry, st_entry));
  }
  // ST responses: assemble VADD's a and b lines and POOL's taps
  const auto st_head = m.wire("st_head");
  m.assign(st_head, "head_ok && head[0] && head[3]");  // the last beat of a line for ST
  const int in_lane = pool ? kSumBits : kValueBits;  // a POOL window's sum needs the wider lanes
  const auto unpack_in = lane_mux("st_unpack_in", C, in_lane, lane_widths(16), "in_bits", "in_signed", "full_line");
  const auto unpack_b = lane_mux("st_unpack_b", C, kValueBits, lane_widths(16), "res_bits", "res_signed", "full_line");
  if (pool) m.wire("st_pool_next", C * kSumBits);
  // lanes of `bits` bits of `name`, sign-extended to 32
  auto widened = [&](const std::string& name, int bits) {
    std::string cat;
    for (int c = C - 1; c >= 0; --c)
      cat += fmt::format("{}{}", cat.empty() ? "" : ", ",
                         sign_extend(fmt::format("{}[{}:{}]", name, c * bits + bits - 1, c * bits), fmt::format("{}[{}]", name, c * bits + bits - 1), 32 - bits));
    return "{" + cat + "}";
  };
  {
    // the first tap, else the sum, else the maximum (compared at the values' 17 bits)
    std::string cat, aline;
    for (int c = C - 1; c >= 0; --c) {
      const std::string v = fmt::format("{}[{}:{}]", unpack_in, c * in_lane + in_lane - 1, c * in_lane),
                        a = fmt::format("st_pool[{}:{}]", c * kSumBits + kSumBits - 1, c * kSumBits),
                        v17 = fmt::format("{}[{}:{}]", unpack_in, c * in_lane + kValueBits - 1, c * in_lane),
                        a17 = fmt::format("st_pool[{}:{}]", c * kSumBits + kValueBits - 1, c * kSumBits);
      cat += fmt::format("{}(head[{}] ? {} : (st_avg ? {} + {} : (($signed({}) > $signed({})) ? {} : {})))", cat.empty() ? "" : ", ", hb + 19, v, a, v, v17, a17, v, a);
      aline += (aline.empty() ? "" : ", ") + v17;
    }
    if (pool) m.assign("st_pool_next", "{" + cat + "}");
    m.assign(m.wire("st_aline_in", C * kValueBits), "{" + aline + "}");
  }
  const auto vadd_feed = m.wire("vadd_feed");
  if (pool) m.wire("pool_feed");
  m.assign(vadd_feed, fmt::format("st_head && st_kind == 2'd1 && head[{}]", hb + 18));
  if (pool) m.assign("pool_feed", fmt::format("st_head && st_kind == 2'd2 && head[{}]", hb + 20));
  m.assign(feed, pool ? "store_feed || vadd_feed || pool_feed" : "store_feed || vadd_feed");
  {
    std::string acc_x;
    for (int c = C - 1; c >= 0; --c) {
      const std::string v = fmt::format("st_acc_line[{}:{}]", c * w.psum + w.psum - 1, c * w.psum);
      acc_x += (acc_x.empty() ? "" : ", ") + (w.psum == 32 ? v : fmt::format("{{{{{}{{st_acc_line[{}]}}}}, {}}}", 32 - w.psum, c * w.psum + w.psum - 1, v));
    }
    m.assign(feed_x, pool ? fmt::format("store_feed ? {{{}}} : (vadd_feed ? {} : {})", acc_x, widened("st_aline", kValueBits), widened("st_pool_next", kSumBits))
                          : fmt::format("store_feed ? {{{}}} : {}", acc_x, widened("st_aline", kValueBits)));
  }
  m.assign(feed_y, unpack_b);
  m.assign(feed_add, "vadd_feed");
  m.assign(feed_bypass, pool ? "pool_feed && !st_avg" : "1'b0");  // max pooling's values bypass the lanes
  m.assign(feed_addr, "st_out");
  m.assign(feed_last, "store_feed ? st_last_line : head[4]");
  // the PPU: cols lanes, parameters from PARAM line st_param
  const auto param_line = m.wire("st_param_line", param.width);
  const auto st_param_issue = m.reg("st_param_issue", st_param.width);  // st_param of the instruction issuing to ST
  m.always_comb([&](Block& b) {
    b.assign(st_param_issue, fmt::format("{}'d0", st_param.width));
    b.case_("opcode",
            without_pool({{fmt::format("6'd{}", static_cast<int>(Opcode::Store)), [&](Block& x) { x.assign(st_param_issue, field(Opcode::Store, "param_addr")); }},
             {fmt::format("6'd{}", static_cast<int>(Opcode::Vadd)), [&](Block& x) { x.assign(st_param_issue, fmt::format("{{2'd0, {}}}", field(Opcode::Vadd, "param_addr"))); }},
             {fmt::format("6'd{}", static_cast<int>(Opcode::Pool)), [&](Block& x) { x.assign(st_param_issue, field(Opcode::Pool, "param_addr")); }}}),
            [&](Block&) {});
  });
  m.lint_off("UNUSEDSIGNAL");  // bits unused in some configurations
  const auto st_param_next = m.wire("st_param_next", st_param.width);
  m.lint_on("UNUSEDSIGNAL");
  m.assign(st_param_next, "issue_to[3] ? st_param_issue : st_param");
  // The lanes: one per column (G = 1), each line in one cycle; or PLN lanes (G = cols / PLN > 1): a line waits in
  // the lanes' input register (pp_*) and goes through them a group of PLN columns per cycle, group pp_g. Digit-serial
  // lanes (D = post_mult_cycles > 1) hold each group D cycles (digit pp_d), so a line takes LC = G x D cycles.
  Regs pp_regs = {{"pp_busy", 1}};
  if (G > 1) pp_regs.push_back({"pp_g", gw});
  if (D > 1) pp_regs.push_back({"pp_d", digit_w});
  const std::string last_digit = D > 1 ? fmt::format("pp_d == {}'d{}", digit_w, D - 1) : "",
                    last_group = G > 1 ? fmt::format("pp_g == {}'d{}", gw, G - 1) : "";
  std::vector<std::string> line_end;  // the line's last cycle in the lanes: its last group's last digit
  if (G > 1) line_end.push_back(last_group);
  if (D > 1) line_end.push_back(last_digit);
  const std::string line_done = fmt::format("{}", fmt::join(line_end, " && "));
  std::string lane_x = "feed_x", lane_y = "feed_y", lane_param = "st_param_line", lane_add = "feed_add";
  if (LC > 1) {
    for (const auto& [name, width] : pp_regs) m.reg(name, width);
    const auto pp_x = m.reg("pp_x", C * 32), pp_y = m.reg("pp_y", C * kValueBits), pp_addr = m.reg("pp_addr", AW);
    const auto pp_add = m.reg("pp_add"), pp_bypass = m.reg("pp_bypass"), pp_last = m.reg("pp_last");
    m.assign("pp_free", fmt::format("!pp_busy || {}", line_done));
    // a VADD line or POOL pixel waits in the response FIFO (and stops its pops) while the lanes are busy
    m.assign("st_hold", pool ? fmt::format("!pp_free && head[0] && head[3] && ((st_kind == 2'd1 && head[{}]) || (st_kind == 2'd2 && head[{}]))", hb + 18, hb + 20)
                             : fmt::format("!pp_free && head[0] && head[3] && st_kind == 2'd1 && head[{}]", hb + 18));
    lane_x = "pp_xg", lane_y = "pp_yg", lane_param = "pp_param", lane_add = "pp_add";
    if (G > 1) {
      m.assign(m.wire("pp_xg", PLN * 32), fmt::format("pp_x[pp_g * {0} +: {0}]", PLN * 32));
      m.assign(m.wire("pp_yg", PLN * kValueBits), fmt::format("pp_y[pp_g * {0} +: {0}]", PLN * kValueBits));
    } else {
      lane_x = "pp_x", lane_y = "pp_y";
    }
    if (param_by_group) {
      lane_param = "st_param_line";  // PARAM reads group pp_g's entries, from pp_g's next value
      m.assign(m.wire("pp_g_next", gw), fmt::format("feed ? {0}'d0 : (pp_busy{1} ? pp_g + {0}'d1 : pp_g)", gw, D > 1 ? " && " + last_digit : ""));
    } else if (G > 1) {
      m.assign(m.wire("pp_param", PLN * param_entry), fmt::format("st_param_line[pp_g * {0} +: {0}]", PLN * param_entry));
    } else {
      lane_param = "st_param_line";  // read once per line: stable while the line is in the lanes
    }
    m.always_ff(clk, [&](Block& b) {
      b.if_("rst || start", [&](Block& t) { t.assign("pp_busy", "1'b0"); }, [&](Block& e) {
        e.if_("pp_busy", [&](Block& t) {
          if (D > 1) t.assign("pp_d", fmt::format("pp_d + {}'d1", digit_w));
          auto next_group = [&](Block& g) {
            if (G > 1) g.assign("pp_g", fmt::format("pp_g + {}'d1", gw));
            g.if_(line_done, [&](Block& x) { x.assign("pp_busy", "1'b0"); });
          };
          if (D > 1) t.if_(last_digit, next_group); else next_group(t);
        });
        e.if_("feed", [&](Block& t) {
          t.assign("pp_busy", "1'b1");
          if (G > 1) t.assign("pp_g", fmt::format("{}'d0", gw));
          if (D > 1) t.assign("pp_d", fmt::format("{}'d0", digit_w));
        });
        // the line's values are taken whenever the register is free (a feed needs it free), not on the feed alone:
        // nothing reads them while pp_busy is low, and their ~100 enables then hang on two counters, not on the
        // response FIFO's head through st_hold and the feed
        e.if_("pp_free", [&](Block& t) {
          t.assign(pp_x, "feed_x").assign(pp_y, "feed_y");
          t.assign(pp_add, "feed_add").assign(pp_bypass, "feed_bypass").assign(pp_addr, "feed_addr").assign(pp_last, "feed_last");
        });
      });
      zero_on_reset(b, pp_regs);
    });
  }
  const std::string param_line_next = fmt::format("st_param_next[{}:0]", param_aw - 1);
  m.assign(param_line, read_port(m, param, "param_q", param_by_group ? param_address(param_line_next, "pp_g_next") : param_line_next, false));
  m.lint_off("UNUSEDSIGNAL");  // bits unused in some configurations
  const auto ppu_out = m.wire("ppu_out", PLN * 64);
  m.lint_on("UNUSEDSIGNAL");
  // an element enters the lanes from their input register (a digit-serial lane takes it on its first digit)
  if (D > 1) m.assign(m.wire("lane_load"), fmt::format("pp_busy && pp_d == {}'d0", digit_w));
  const std::string entering = D > 1 ? "lane_load" : "pp_busy";
  for (int c = 0; c < PLN; ++c) {
    const int e = c * param_entry;
    std::vector<std::pair<std::string, std::string>> ports = {
        {"clk", "clk"}, {"mode_add", lane_add}, {"x", fmt::format("{}[{}:{}]", lane_x, c * 32 + 31, c * 32)},
        {"y", fmt::format("{}[{}:{}]", lane_y, c * kValueBits + kValueBits - 1, c * kValueBits)}, {"a", fmt::format("{}[{}:{}]", lane_param, e + 31, e)},
        {"b", fmt::format("{}[{}:{}]", lane_param, e + 63, e + 32)}, {"shift", fmt::format("{}[{}:{}]", lane_param, e + param_entry - 1, e + 64)},
        {"lo", "sat_lo"}, {"hi", "sat_hi"}, {"out", fmt::format("ppu_out[{}:{}]", c * 64 + 63, c * 64)}};
    if (D > 1) ports.insert(ports.begin() + 1, {"load", entering});
    m.instance("faq_post", fmt::format("post_{}", c), ports);
  }
  // beside the PPU: valid, last, bypass, address, [G > 1: last group,] and the raw values (max pooling bypasses
  // the PPU)
  const int gx = G == 1 ? 0 : 1;  // the last-group flag
  const int pw = 3 + AW + gx + PLN * 32, PL = timing::post_latency(cfg);
  // (with delay_memory the valid bits stay in flip-flops and the rest goes in memory, the raw values only with the
  // POOL unit: nothing else reads them)
  const bool post_in_memory = cfg.delay_memory && PL >= 2;
  const int post_carried = post_in_memory && !pool ? pw - PLN * 32 : pw;  // the bits the delay line carries (the top ones)
  const auto post_delay = post_in_memory ? Signal{} : m.reg("post_delay", PL * pw);
  if (post_carried < pw) m.lint_off("UNUSEDSIGNAL");  // the raw values: only max pooling reads them
  const auto post_in = m.wire("post_in", pw);
  if (post_carried < pw) m.lint_on("UNUSEDSIGNAL");
  m.assign(post_in, LC == 1 ? std::string("{feed, feed_last, feed_bypass, feed_addr, feed_x}")
                            : fmt::format("{{{}, pp_last, pp_bypass, pp_addr, {}{}}}", entering,
                                          G > 1 ? fmt::format("pp_g == {}'d{}, ", gw, G - 1) : "", lane_x));
  const auto post_out = m.wire("post_out", pw);
  if (post_in_memory) {
    const auto delayed_in = m.wire("post_delayed_in", post_carried);
    m.assign(delayed_in, fmt::format("post_in[{}:{}]", pw - 1, pw - post_carried));
    const std::string delayed = memory_delay(m, "post_delay", delayed_in.name, post_carried, PL, 1, false).first;
    m.assign(post_out, post_carried == pw ? delayed : fmt::format("{{{}, {}'d0}}", delayed, pw - post_carried));
  } else {
    m.assign(post_out, fmt::format("post_delay[{}:{}]", PL * pw - 1, (PL - 1) * pw));
  }
  m.lint_off("UNUSEDSIGNAL");  // bits unused in some configurations
  const auto result = m.wire("st_result", C * 32);
  const Signal lanes_result = G == 1 ? result : m.wire("st_lanes_result", PLN * 32);
  m.lint_on("UNUSEDSIGNAL");
  {
    std::string cat;
    for (int c = PLN - 1; c >= 0; --c)
      cat += fmt::format("{}(post_out[{}] ? post_out[{}:{}] : ppu_out[{}:{}])", cat.empty() ? "" : ", ", pw - 3, c * 32 + 31, c * 32, c * 64 + 31, c * 64);
    m.assign(lanes_result, "{" + cat + "}");
  }
  if (G > 1) {
    // A line's groups leave the lanes in order, 0 to G - 1, on consecutive cycles: they shift into st_line from the
    // top, so that with the last one (group G - 1, from the lanes) every group is in its place (no multiplexers).
    const int held = (C - PLN) * 32;  // groups 0 to G - 2
    const auto line = m.reg("st_line", held);
    m.always_ff(clk, [&](Block& b) {
      b.if_(fmt::format("post_out[{}]", pw - 1), [&](Block& t) {
        t.assign(line, G == 2 ? lanes_result.name : fmt::format("{{{}, st_line[{}:{}]}}", lanes_result.name, held - 1, PLN * 32));
      });
    });
    m.assign(result, fmt::format("{{{}, st_line}}", lanes_result.name));
  }
  const int out_beats_max = (2 * C + P - 1) / P;  // output lanes are at most 16 bits (CONFIG.out_bits)
  const auto packed = m.wire("st_packed", out_beats_max * PB);
  {
    std::string expr = fmt::format("{}'d0", out_beats_max * PB);
    for (int bits : lane_widths(16)) {  // CONFIG.out_bits holds at most 16 (2, 4, 8, 16)
      std::string cat;
      for (int c = C - 1; c >= 0; --c) cat += fmt::format("{}st_result[{}:{}]", cat.empty() ? "" : ", ", c * 32 + bits - 1, c * 32);
      const int used = C * bits;
      const std::string line = used == out_beats_max * PB ? "{" + cat + "}" : fmt::format("{{{}'d0, {}}}", out_beats_max * PB - used, cat);
      expr = fmt::format("(out_bits == 5'd{}) ? {} : {}", bits, line, expr);
    }
    m.assign(packed, expr);
  }
  // output FIFO (8 lines): {last, address, packed line}; the writer sends each line as beats
  const int ow = 1 + AW + out_beats_max * PB;
  const auto ofifo = sync_memory(m, "ofifo", ow, 32);
  m.reg("of_head", 5);
  m.reg("of_tail", 5);
  m.reg("of_count", 6);
  m.reg("of_beat", beat_w + 1);
  const auto post_push = m.wire("post_push");  // a whole line leaves the lanes
  m.assign(post_push, G == 1 ? fmt::format("post_out[{}]", pw - 1) : fmt::format("post_out[{}] && post_out[{}]", pw - 1, PLN * 32));
  m.assign("ofifo_we", "!(rst || start) && post_push");
  m.assign("ofifo_wa", "of_tail");
  m.assign("ofifo_wd", fmt::format("{{post_out[{}], post_out[{}:{}], st_packed}}", pw - 2, pw - 4, pw - 3 - AW));
  const std::string of_entry = read_port(m, ofifo, "of_entry", advanced("of_head", "out_pop", 5), true);
  m.lint_off("UNUSEDSIGNAL");  // the bits above a line's largest beat count
  const auto of_beats = m.wire("of_beats", 16);
  m.lint_on("UNUSEDSIGNAL");
  m.assign(of_beats, beats_of("st_out_bytes", 16));
  // A line's last beat and that beat's strobes depend on CONFIG.out_bits alone: registered from it (of_final,
  // of_final_strb), so that the beat counter meets no subtraction on its way to the memory's write enables. They
  // follow a CONFIG one cycle late, when the FIFO is empty: CONFIG waits for every earlier instruction to complete,
  // and a line enters the FIFO from a later STORE or VADD at least the lanes' latency after it issues.
  m.reg("of_final", beat_w + 1);
  m.reg("of_final_strb", P);
  m.always_ff(clk, [&](Block& b) {
    b.assign("of_final", fmt::format("of_beats[{}:0] - {}'d1", beat_w, beat_w + 1));
    b.assign("of_final_strb", lp == 0 ? "1'b1"
                                      : fmt::format("(st_out_bytes[{0}:0] == {1}'d0) ? {{{2}{{1'b1}}}} : {3}", lp - 1, lp,
                                                    P, fmt::format("{{{}'d1 << st_out_bytes[{}:0]}} - {}'d1", P, lp - 1, P)));
  });
  const auto of_last_beat = m.wire("of_last_beat");
  m.assign(of_last_beat, "of_beat == of_final");
  m.assign(wr_req, "of_count != 6'd0 && st_out_bytes != 16'd0");
  m.assign(wr_addr, port_address(fmt::format("of_entry[{}:{}] + {}", ow - 2, ow - 1 - AW, beat_bytes("of_beat", beat_w + 1, AW))));
  m.assign(wr_data, fmt::format("of_entry[of_beat * {} +: {}]", PB, PB));
  // every beat before the last is whole; the last holds the line's bytes modulo the port's (all of them at 0)
  m.assign(wr_strb, fmt::format("of_last_beat ? of_final_strb : {{{}{{1'b1}}}}", P));
  m.assign(pop_out, "of_count != 6'd0 && (st_out_bytes == 16'd0 || (wr_ready && of_last_beat))");
  m.assign("st_complete", fmt::format("out_pop && of_entry[{}]", ow - 1));
  m.always_ff(clk, [&](Block& b) {
    if (!post_in_memory) {
      b.assign(post_delay, PL == 1 ? "post_in" : fmt::format("{{post_delay[{}:0], post_in}}", (PL - 1) * pw - 1));
      // the valid bit of every stage is reset (the values beside it need not be)
      b.if_("rst", [&](Block& t) {
        for (int stage = 0; stage < PL; ++stage) t.assign(fmt::format("post_delay[{}]", stage * pw + pw - 1), "1'b0");
      });
    }
    b.if_("rst || start", [&](Block& t) {
      t.assign(st_busy, "1'b0").assign(st_reads, "1'b0").assign("st_feeding", "1'b0").assign("st_pending", "6'd0");
      t.assign("of_head", "5'd0").assign("of_tail", "5'd0").assign("of_count", "6'd0").assign("of_beat", fmt::format("{}'d0", beat_w + 1));
    }, [&](Block& e) {
      e.if_("post_push", [&](Block& t) {
        t.assign("of_tail", "of_tail + 5'd1");
      });
      e.if_("out_pop", [&](Block& t) { t.assign("of_head", "of_head + 5'd1").assign("of_beat", fmt::format("{}'d0", beat_w + 1)); },
            [&](Block& t) { t.if_("wr_req && wr_ready", [&](Block& x) { x.assign("of_beat", fmt::format("of_beat + {}'d1", beat_w + 1)); }); });
      e.assign("of_count", "of_count + {5'd0, post_push} - {5'd0, out_pop}");
      const std::string starts = "(store_feed || (st_req && rd_ready && st_new_unit))";
      e.assign("st_pending", fmt::format("st_pending + {{5'd0, {}}} - {{5'd0, out_pop}}", starts));
      e.if_("st_complete", [&](Block& t) { t.assign(st_busy, "1'b0"); });
      e.assign("st_acc", st_acc_next);

      e.if_("vadd_feed", [&](Block& t) { t.assign("st_out", "st_out + " + fit("st_out_bytes", 16, AW)); });
      if (pool) e.if_("pool_feed", [&](Block& t) { t.assign("st_out", "st_out + " + fit("out_stride", SW, AW)); });
      e.if_(fmt::format("st_head && st_kind == 2'd1 && !head[{}]", hb + 18), [&](Block& t) { t.assign(st_aline, "st_aline_in"); });
      if (pool) e.if_("st_head && st_kind == 2'd2", [&](Block& t) { t.assign("st_pool", "st_pool_next"); });
      e.if_("issue_to[3]", [&](Block& t) {
        t.assign(st_busy, "1'b1").assign("st_beat", fmt::format("{}'d0", beat_w)).assign("st_which", "1'b0");
        t.assign(st_param, st_param_issue);
        t.case_("opcode",
                without_pool({{fmt::format("6'd{}", static_cast<int>(Opcode::Store)),
                  [&](Block& x) {
                    x.assign("st_kind", "2'd0").assign("st_feeding", "1'b1").assign("st_y", "10'd0").assign("st_x", "10'd0");
                    x.assign("st_cy1", field(Opcode::Store, "count_y") + " - 10'd1").assign("st_cx2", field(Opcode::Store, "count_x") + " - 10'd2");
                    x.assign("st_xone", field(Opcode::Store, "count_x") + " == 10'd1").assign("st_xend", field(Opcode::Store, "count_x") + " == 10'd1");
                    x.assign("st_none", fmt::format("{} == 10'd0 || {} == 10'd0", field(Opcode::Store, "count_y"), field(Opcode::Store, "count_x")));
                    x.assign("st_row_acc", st_afirst).assign("st_asy", field(Opcode::Store, "acc_stride_y", acc_aw));
                    x.assign("st_b", field(Opcode::Store, "dram_addr", AW)).assign("st_out", field(Opcode::Store, "dram_addr", AW));
                    x.assign("st_dstride", field(Opcode::Store, "dram_stride_y", DW));
                  }},
                 {fmt::format("6'd{}", static_cast<int>(Opcode::Vadd)),
                  [&](Block& x) {
                    x.assign("st_kind", "2'd1").assign(st_reads, fmt::format("{} != 16'd0", field(Opcode::Vadd, "count")));
                    x.assign("st_a", field(Opcode::Vadd, "a_addr", AW)).assign("st_b", field(Opcode::Vadd, "b_addr", AW)).assign("st_out", field(Opcode::Vadd, "out_addr", AW));
                    x.assign("st_count", field(Opcode::Vadd, "count")).assign("st_n", "16'd0");
                  }},
                 {fmt::format("6'd{}", static_cast<int>(Opcode::Pool)),
                  [&](Block& x) {
                    x.assign("st_kind", "2'd2").assign(st_reads, "1'b1");
                    x.assign("st_a", field(Opcode::Pool, "src_addr", AW)).assign("st_out", field(Opcode::Pool, "dst_addr", AW));
                    x.assign("st_in_h", field(Opcode::Pool, "in_h")).assign("st_in_w", field(Opcode::Pool, "in_w"));
                    x.assign("st_out_w", field(Opcode::Pool, "out_w"));
                    x.assign("st_k", field(Opcode::Pool, "kernel")).assign("st_s", field(Opcode::Pool, "stride")).assign("st_p", field(Opcode::Pool, "pad"));
                    x.assign("st_avg", field(Opcode::Pool, "average"));
                    x.assign("st_out_h", field(Opcode::Pool, "out_h"));
                    x.assign("st_oy", "9'd0").assign("st_ox", "9'd0").assign("st_pstart", "1'b1");
                    x.assign("st_by", fmt::format("14'd0 - {{12'd0, {}}}", field(Opcode::Pool, "pad"))).assign("st_bx", fmt::format("14'd0 - {{12'd0, {}}}", field(Opcode::Pool, "pad")));
                    x.assign("st_rp", fit(field(Opcode::Pool, "in_w"), 9, AW) + " * " + fit("in_stride", SW, AW));
                    x.assign("st_prow", field(Opcode::Pool, "src_addr", AW)).assign("st_pcol", fmt::format("{}'d0", AW));
                  }}}),
                [&](Block&) {});
      });
      // STORE: walk the ACC lines
      e.if_("store_feed", [&](Block& t) {
        t.if_("st_last_line", [&](Block& x) { x.assign("st_feeding", "1'b0"); });
        t.if_("st_xend", [&](Block& x) {
          x.assign("st_x", "10'd0").assign("st_y", "st_y + 10'd1").assign("st_xend", "st_xone");
          x.assign("st_row_acc", "st_row_acc + " + fit("st_asy", std::min(12, acc_aw), acc_aw));
          x.assign("st_b", "st_b + " + fit("st_dstride", DW, AW)).assign("st_out", "st_b + " + fit("st_dstride", DW, AW));
        }, [&](Block& x) {
          x.assign("st_x", "st_x + 10'd1").assign("st_out", "st_out + " + fit("out_stride", SW, AW)).assign("st_xend", "st_x == st_cx2");
        });
      });
      // VADD / POOL: walk the requests
      e.if_("st_req && rd_ready", [&](Block& t) {
        t.if_("st_req_last_beat", [&](Block& x) {
          x.assign("st_beat", fmt::format("{}'d0", beat_w));
          auto vadd = [&](Block& y) {
            y.assign("st_which", "!st_which");
            y.if_("st_which", [&](Block& z) {
              z.assign("st_n", "st_n + 16'd1").assign("st_a", "st_a + " + fit("st_in_bytes", 16, AW)).assign("st_b", "st_b + " + fit("st_res_bytes", 16, AW));
              z.if_("st_final", [&](Block& u) { u.assign(st_reads, "1'b0"); });
            });
          };
          if (pool) {
            x.if_("st_kind == 2'd1", vadd, [&](Block& y) {
            y.if_("!st_tap_last", [&](Block& z) {
              z.assign("st_pstart", "1'b0");
              z.if_("$signed({10'd0, st_ekx}) == st_kx1",
                    [&](Block& u) {
                      u.assign("st_kx", "st_kx0[3:0]").assign("st_ky", "st_eky + 4'd1");
                      u.assign("st_trow", "st_cur_row + st_rp").assign("st_tap", "st_cur_row + st_rp + st_pcol");
                    },
                    [&](Block& u) {
                      u.assign("st_kx", "st_ekx + 4'd1").assign("st_ky", "st_eky");
                      u.assign("st_trow", "st_cur_row").assign("st_tap", "st_tap_addr + " + fit("in_stride", SW, AW));
                    });
            }, [&](Block& z) {
              z.assign("st_pstart", "1'b1");
              z.if_("st_final", [&](Block& u) { u.assign(st_reads, "1'b0"); });
              z.if_("st_ox == st_out_w - 9'd1",
                    [&](Block& u) {
                      u.assign("st_ox", "9'd0").assign("st_oy", "st_oy + 9'd1");
                      u.assign("st_by", "st_by_next").assign("st_bx", fmt::format("14'd0 - {{12'd0, st_p}}"));
                      u.assign("st_prow", "st_prow + st_dy_rows").assign("st_pcol", fmt::format("{}'d0", AW));
                    },
                    [&](Block& u) {
                      u.assign("st_ox", "st_ox + 9'd1").assign("st_bx", "st_bx_next").assign("st_pcol", "st_pcol + st_dx_cols");
                    });
            });
            });
          } else {
            vadd(x);  // VADD is ST's only reader
          }
        }, [&](Block& x) { x.assign("st_beat", fmt::format("st_beat + {}'d1", beat_w)); });
      });
    });
    zero_on_reset(b, st_regs);
    zero_on_reset(b, {{st_param.name, st_param.width}});
  });

  // ---- performance counters of memory, buffers and per-unit stalls (after every signal they count) ------------------
  m.always_ff(clk, [&](Block& b) {
    b.if_("rst || start", [&](Block& x) { x.assign(perf_mem, "64'd0").assign(perf_unit_stall, "128'd0").assign(perf_buf, "256'd0"); },
          [&](Block& x) {
            x.if_("running", [&](Block& y) {
              y.assign("perf_mem[31:0]", "perf_mem[31:0] + {31'd0, rd_req && rd_ready}");
              y.assign("perf_mem[63:32]", "perf_mem[63:32] + {31'd0, wr_req && wr_ready}");
              for (int u = 0; u < 4; ++u)
                y.assign(fmt::format("perf_unit_stall[{}:{}]", 32 * u + 31, 32 * u),
                         fmt::format("perf_unit_stall[{}:{}] + {{31'd0, head_valid && !issue && !{} && !{} && unit == 2'd{}}}", 32 * u + 31, 32 * u,
                                     is(Opcode::Config), is(Opcode::Halt), u));
              const std::vector<std::string> events = {
                  "ld_write && head_buf == 2'd0", "ld_write && head_buf == 2'd1", "(ld_write && head_buf == 2'd2) || ex_acc_write",
                  "ld_write && head_buf == 2'd3", "ex_busy", "pl_busy", "ex_acc_write || store_feed", "feed"};
              for (std::size_t k = 0; k < events.size(); ++k)
                y.assign(fmt::format("perf_buf[{}:{}]", 32 * k + 31, 32 * k), fmt::format("perf_buf[{}:{}] + {{31'd0, {}}}", 32 * k + 31, 32 * k, events[k]));
            });
          });
  });
  return m;
}

}  // namespace faq::hw
