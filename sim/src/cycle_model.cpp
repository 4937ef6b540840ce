// docs/cycle-model.md: the rules, one function. Every instruction is reduced to (unit, resources read, resources
// written, cycles its unit is occupied, latency until its results are complete, the memory channels it holds).
#include "faq/sim/cycle_model.h"

#include "faq/packing.h"

#include <algorithm>
#include <numeric>

namespace faq::sim {

std::string_view to_string(Unit u) {
  switch (u) {
    case Unit::Ld: return "LD";
    case Unit::Pl: return "PL";
    case Unit::Ex: return "EX";
    case Unit::St: return "ST";
  }
  return "?";
}

CycleModel::CycleModel(const AcceleratorConfig& config, TimingOptions options) : config_(config), options_(options) {
  if (options_.post_latency < 0) options_.post_latency = timing::post_drain_latency(config);
}

std::uint64_t CycleModel::beats(std::uint64_t bytes) const {
  const auto port = static_cast<std::uint64_t>(config_.mem_port_bits / 8);
  return std::max<std::uint64_t>(1, (bytes + port - 1) / port);
}

// The halves of a buffer of `lines` lines that the line range [first, last] touches.
CycleModel::Set CycleModel::halves(Resource lower, std::int64_t first, std::int64_t last, std::int64_t lines) const {
  const std::int64_t half = timing::upper_half(lines);
  Set s = 0;
  if (first < half) s |= bit(lower);
  if (last >= half) s |= bit(static_cast<Resource>(lower + 1));
  return s;
}

std::uint64_t CycleModel::all_done() const { return *std::max_element(unit_done_.begin(), unit_done_.end()); }

std::uint64_t CycleModel::now() const { return std::max(all_done(), started_ ? last_issue_ + 1 : 0); }

Timing CycleModel::issue(const isa::Instruction& i) {
  using isa::Opcode;
  const auto R = static_cast<std::int64_t>(config_.rows), C = static_cast<std::int64_t>(config_.cols);
  const auto G = static_cast<std::uint64_t>(config_.lane_cycles());  // post-processing cycles per line
  // VADD and POOL with G > 1: `units` lines (or pixels) whose reads take `reads` cycles in all enter the lanes at
  // most one per G cycles, the first once its reads are done; the last spends G cycles in them.
  auto lane_bound = [&](std::uint64_t reads, std::uint64_t units) {
    if (G == 1 || units == 0) return reads;
    return std::max(reads, reads / units + (units - 1) * G) + G;
  };
  const std::uint64_t earliest = started_ ? last_issue_ + 1 : 0;
  Timing t;
  if (i.opcode == Opcode::Config || i.opcode == Opcode::Halt) {  // barriers
    t.issue = std::max(earliest, all_done());
    t.busy_until = t.done = t.issue + (i.opcode == Opcode::Config ? 1 : 0);
    if (i.opcode == Opcode::Config) {
      using F = isa::Config;
      in_bits_ = static_cast<int>(i[F::in_bits]);
      weight_bits_ = static_cast<int>(i[F::weight_bits]);
      out_bits_ = static_cast<int>(i[F::out_bits]);
      res_bits_ = static_cast<int>(i[F::res_bits]);
      in_pixel_stride_ = i[F::in_pixel_stride];
      out_pixel_stride_ = i[F::out_pixel_stride];
    }
    totals_.stall_cycles += t.issue - earliest;
    totals_.cycles = std::max(totals_.cycles, t.done);
    last_issue_ = t.issue;
    started_ = true;
    return t;
  }

  Set reads = 0, writes = 0;
  std::uint64_t occupancy = 1, latency = 0;
  bool reads_port = false, writes_port = false;
  std::uint64_t read_busy = 0, write_busy = 0;  // how long the channels are held, where not the whole occupancy
  switch (i.opcode) {
    case Opcode::Load: {
      using F = isa::Load;
      t.unit = Unit::Ld;
      reads_port = true;
      latency = static_cast<std::uint64_t>(options_.mem_latency + 2);  // + response FIFO, + completion
      std::uint64_t line_bytes = 0;
      std::int64_t lines = 0;
      Resource lower = Param;
      switch (static_cast<isa::Buffer>(i[F::buffer])) {
        case isa::Buffer::Spad: line_bytes = static_cast<std::uint64_t>(products() * R * in_bits_ / 8); lines = config_.spad_lines(); lower = Spad0; break;
        case isa::Buffer::Wbuf: line_bytes = static_cast<std::uint64_t>(products() * C * weight_bits_ / 8); lines = config_.wbuf_lines(); lower = Wbuf0; break;
        case isa::Buffer::Acc: line_bytes = static_cast<std::uint64_t>(4 * C); lines = config_.acc_lines(); lower = Acc0; break;
        case isa::Buffer::Param: line_bytes = static_cast<std::uint64_t>(packing::kParamEntryBytes * C); lines = config_.param_lines(); break;
      }
      const auto h = static_cast<std::int64_t>(i[F::pad_top] + i[F::count_y] + i[F::pad_bottom]);
      const auto w = static_cast<std::int64_t>(i[F::pad_left] + i[F::count_x] + i[F::pad_right]);
      const std::uint64_t from_dram = i[F::count_y] * i[F::count_x];
      const auto padding = static_cast<std::uint64_t>(h * w) - from_dram;
      occupancy = std::max<std::uint64_t>(1, from_dram * beats(line_bytes) + padding);
      t.dram_read = from_dram * line_bytes;
      const auto first = static_cast<std::int64_t>(i[F::sram_addr]);
      const std::int64_t last = first + (h - 1) * static_cast<std::int64_t>(i[F::sram_stride_y]) + w - 1;
      writes = lower == Param ? bit(Param) : halves(lower, first, std::max(first, last), lines);
      break;
    }
    case Opcode::Preload: {
      t.unit = Unit::Pl;
      const auto first = static_cast<std::int64_t>(i[isa::Preload::wbuf_addr]);
      reads = halves(Wbuf0, first, first + R - 1, config_.wbuf_lines());
      writes = bit(i[isa::Preload::bank] != 0 ? Bank1 : Bank0);
      occupancy = static_cast<std::uint64_t>(R);
      latency = 1;  // the completion is seen by the scoreboard one cycle after the last shift
      break;
    }
    case Opcode::Matmul: {
      using F = isa::Matmul;
      t.unit = Unit::Ex;
      const auto cy = static_cast<std::int64_t>(i[F::count_y]), cx = static_cast<std::int64_t>(i[F::count_x]);
      const std::int64_t lines = cy * cx;
      if (lines > 0) {
        const auto a = static_cast<std::int64_t>(i[F::spad_addr]);
        reads = halves(Spad0, a, a + (cy - 1) * static_cast<std::int64_t>(i[F::spad_stride_y]) + (cx - 1) * static_cast<std::int64_t>(i[F::spad_stride_x]),
                       config_.spad_lines());
        const auto acc = static_cast<std::int64_t>(i[F::acc_addr]);
        writes = halves(Acc0, acc, acc + (cy - 1) * static_cast<std::int64_t>(i[F::acc_stride_y]) + cx - 1, config_.acc_lines());
      }
      reads |= bit(i[F::bank] != 0 ? Bank1 : Bank0);
      occupancy = static_cast<std::uint64_t>(std::max<std::int64_t>(1, lines));
      latency = static_cast<std::uint64_t>(timing::matmul_latency(config_));
      t.macs = static_cast<std::uint64_t>(lines * products() * R * C);
      t.array_lines = static_cast<std::uint64_t>(lines);
      totals_.array_lines += static_cast<std::uint64_t>(lines);
      break;
    }
    case Opcode::Store: {
      using F = isa::Store;
      t.unit = Unit::St;
      writes_port = true;
      const auto cy = static_cast<std::int64_t>(i[F::count_y]), cx = static_cast<std::int64_t>(i[F::count_x]);
      const auto acc = static_cast<std::int64_t>(i[F::acc_addr]);
      reads = bit(Param) | (cy * cx > 0 ? halves(Acc0, acc, acc + (cy - 1) * static_cast<std::int64_t>(i[F::acc_stride_y]) + cx - 1, config_.acc_lines()) : 0);
      const auto line_bytes = static_cast<std::uint64_t>(C * out_bits_ / 8);
      const auto lines = static_cast<std::uint64_t>(cy * cx);
      // ST is occupied until the last line is written: feed, post-processing, output FIFO, write. With fewer
      // post-processing lanes than columns or digit-serial lanes, a line takes G = cols / post_lanes x post_mult_cycles
      // cycles in the lanes (after one cycle in their input register), and lines enter at most one per G cycles.
      write_busy = std::max<std::uint64_t>(1, G > 1 && lines > 0 ? std::max(lines * beats(line_bytes), 1 + (lines - 1) * G) : lines * beats(line_bytes));
      occupancy = write_busy + static_cast<std::uint64_t>(options_.post_latency) + 2 + (G > 1 ? G : 0);
      t.dram_written = lines * line_bytes;
      break;
    }
    case Opcode::Vadd: {
      using F = isa::Vadd;
      t.unit = Unit::St;
      reads_port = writes_port = true;
      reads = bit(Param);
      const auto a = static_cast<std::uint64_t>(C * in_bits_ / 8), b = static_cast<std::uint64_t>(C * res_bits_ / 8),
                 o = static_cast<std::uint64_t>(C * out_bits_ / 8);
      // reads of a and b back to back on the read channel; the writes overlap them on the write channel
      read_busy = std::max<std::uint64_t>(1, i[F::count] * (beats(a) + beats(b)));
      // + 2, as for STORE: the last write, then the cycle in which ST, no longer busy, may take the next instruction
      occupancy = lane_bound(read_busy, i[F::count]) + static_cast<std::uint64_t>(options_.mem_latency + options_.post_latency + 2) + beats(o);
      t.dram_read = i[F::count] * (a + b);
      t.dram_written = i[F::count] * o;
      break;
    }
    case Opcode::Pool: {
      using F = isa::Pool;
      t.unit = Unit::St;
      reads_port = writes_port = true;
      if (i[F::average] != 0) reads = bit(Param);
      // Window taps inside the input per output row and column (separable), and summed over the output.
      auto inside = [&](std::uint64_t out, std::uint64_t in) {
        std::vector<std::uint64_t> n(out, 0);
        for (std::uint64_t o = 0; o < out; ++o)
          for (std::uint64_t k = 0; k < i[F::kernel]; ++k) {
            const auto at = static_cast<std::int64_t>(o * i[F::stride] + k) - static_cast<std::int64_t>(i[F::pad]);
            n[o] += at >= 0 && at < static_cast<std::int64_t>(in) ? 1 : 0;
          }
        return n;
      };
      const auto taps_y = inside(i[F::out_h], i[F::in_h]), taps_x = inside(i[F::out_w], i[F::in_w]);
      const std::uint64_t taps = std::accumulate(taps_y.begin(), taps_y.end(), std::uint64_t{0}) *
                                 std::accumulate(taps_x.begin(), taps_x.end(), std::uint64_t{0});
      const std::uint64_t outputs = i[F::out_h] * i[F::out_w];
      const auto in_line = static_cast<std::uint64_t>(C * in_bits_ / 8), out_line = static_cast<std::uint64_t>(C * out_bits_ / 8);
      read_busy = std::max<std::uint64_t>(1, taps * beats(in_line));
      std::uint64_t lanes_done = read_busy;
      if (G > 1 && outputs > 0) {
        // Pixel k's taps leave the response FIFO after pixel k - 1's last tap has entered the lanes (FIFO order; that
        // tap waits while the lanes are busy), one per cycle, and its last tap enters them G cycles after pixel
        // k - 1's at the earliest: f_k = max(reads up to k, f_{k-1} + max(r_k, G)), r_k = pixel k's tap beats
        // (fewer at the borders).
        std::uint64_t read = 0, fed = 0;
        bool first = true;
        for (const std::uint64_t ty : taps_y)
          for (const std::uint64_t tx : taps_x) {
            const std::uint64_t r = ty * tx * beats(in_line);
            read += r;
            fed = first ? read : std::max(read, fed + std::max(r, G));
            first = false;
          }
        lanes_done = fed + G;
      }
      occupancy = lanes_done + static_cast<std::uint64_t>(options_.mem_latency + options_.post_latency + 2) + beats(out_line);  // + 2: as VADD
      t.dram_read = taps * in_line;
      t.dram_written = outputs * out_line;
      break;
    }
    case Opcode::Config:
    case Opcode::Halt: break;
  }

  const auto u = static_cast<std::size_t>(t.unit);
  std::uint64_t start = std::max(earliest, unit_free_[u]);
  if (config_.serial_issue) start = std::max(start, all_done());  // as a barrier
  if (reads_port) start = std::max(start, read_port_free_);
  if (writes_port) start = std::max(start, write_port_free_);
  for (std::size_t r = 0; r < kResources; ++r) {
    const bool reads_r = (reads >> r) & 1U, writes_r = (writes >> r) & 1U;
    if (!reads_r && !writes_r) continue;
    for (std::size_t v = 0; v < kUnits; ++v) {
      if (v == u) continue;  // a unit executes its own instructions in order
      start = std::max(start, write_done_[r][v]);
      if (writes_r) start = std::max(start, read_done_[r][v]);
    }
  }
  t.issue = start;
  t.busy_until = start + occupancy;
  t.done = t.busy_until + latency;
  unit_free_[u] = t.busy_until;
  unit_done_[u] = std::max(unit_done_[u], t.done);
  if (reads_port) read_port_free_ = start + (read_busy != 0 ? read_busy : occupancy);
  if (writes_port) write_port_free_ = start + (write_busy != 0 ? write_busy : occupancy);
  for (std::size_t r = 0; r < kResources; ++r) {
    if ((reads >> r) & 1U) read_done_[r][u] = std::max(read_done_[r][u], t.done);
    if ((writes >> r) & 1U) write_done_[r][u] = std::max(write_done_[r][u], t.done);
  }
  totals_.busy[u] += occupancy;
  totals_.stall_cycles += start - earliest;
  totals_.dram_read += t.dram_read;
  totals_.dram_written += t.dram_written;
  totals_.cycles = std::max(totals_.cycles, t.done);
  last_issue_ = start;
  started_ = true;
  return t;
}

std::vector<LayerTiming> time_layers(std::span<const isa::Instruction> code, std::span<const std::size_t> layer_first,
                                     const AcceleratorConfig& config, TimingOptions options) {
  CycleModel model(config, options);
  std::vector<LayerTiming> layers(layer_first.size());
  std::uint64_t previous_end = 0;
  for (std::size_t l = 0; l < layer_first.size(); ++l) {
    const std::size_t end = l + 1 < layer_first.size() ? layer_first[l + 1] : code.size();
    LayerTiming& t = layers[l];
    std::uint64_t finish = previous_end;
    for (std::size_t pc = layer_first[l]; pc < end; ++pc) {
      if (code[pc].opcode == isa::Opcode::Halt) break;
      const Timing i = model.issue(code[pc]);
      finish = std::max(finish, i.done);
      t.array_lines += i.array_lines;
      t.dram_read += i.dram_read;
      t.dram_written += i.dram_written;
      t.busy[static_cast<std::size_t>(i.unit)] += i.busy_until - i.issue;
      if (code[pc].opcode == isa::Opcode::Config) t.products = model.products();
    }
    t.cycles = finish - previous_end;
    previous_end = finish;
  }
  return layers;
}

}  // namespace faq::sim
