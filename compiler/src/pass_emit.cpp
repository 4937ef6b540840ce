// Pass emit: the instructions (docs/isa.md), layer by layer; every layer starts with CONFIG (a barrier).
//   conv2d / linear: per band, each block of `rows` input channels (products x rows on a precision-scalable array) is LOADed once into SPAD with its zero padding
//     (into the band's SPAD half when double-buffered, then while the previous band computes); then per block of
//     `cols` output channels, for every input block and kernel tap, one weight tile is LOADed into a WBUF slot
//     (alternating halves, one MATMUL ahead), PRELOADed into the alternating weight bank and applied by one MATMUL that strides over the band (im2col by address generation)
//     into the group's ACC half; the block's PARAM line is LOADed and STORE adds the bias, requantizes and
//     writes the block's channels of the band to DRAM.
//   maxpool / avgpool: one POOL per block of `cols` channels.  add: one VADD over the dense tensors.
#include "passes.h"

#include <algorithm>
#include <optional>
#include <stdexcept>

namespace faq::compiler {

namespace {

using isa::Instruction;
using isa::Opcode;

// Port beats of one LOAD of input rows at most (one row at least); a larger band's input is split.
constexpr std::int64_t kChunkBeats = 128;

class Emitter {
 public:
  explicit Emitter(Module& m) : m_(m), cfg_(m.config), prog_(m.program) {}

  void run() {
    for (std::size_t l = 0; l < m_.model.layers.size(); ++l) {
      prog_.layer_first.push_back(prog_.code.size());
      const Layer& L = m_.model.layers[l];
      switch (L.op) {
        case OpKind::Input: break;
        case OpKind::Conv2d:
        case OpKind::Linear: conv(l); break;
        case OpKind::MaxPool:
        case OpKind::AvgPool: pool(l); break;
        case OpKind::Add: add(l); break;
      }
    }
    prog_.code.push_back(Instruction(Opcode::Halt));
    for (const auto& i : prog_.code) isa::encode(i);  // every field fits its width
  }

 private:
  void push(const Instruction& i) { prog_.code.push_back(i); }

  Instruction config(std::size_t in, std::size_t out, int weight_bits, std::size_t res = 0) const {
    using F = isa::Config;
    const auto& t = prog_.tensors;
    Instruction i(Opcode::Config);
    i[F::in_bits] = static_cast<std::uint64_t>(t[in].lane_bits);
    i[F::in_signed] = t[in].is_signed;
    i[F::weight_bits] = static_cast<std::uint64_t>(weight_bits);
    i[F::out_bits] = static_cast<std::uint64_t>(t[out].lane_bits);
    i[F::out_signed] = t[out].is_signed;
    i[F::res_bits] = static_cast<std::uint64_t>(t[res].lane_bits);
    i[F::res_signed] = t[res].is_signed;
    i[F::in_pixel_stride] = t[in].pixel_stride();
    i[F::out_pixel_stride] = t[out].pixel_stride();
    i[F::out_range_bits] = static_cast<std::uint64_t>(t[out].bits);
    return i;
  }

  // One PARAM line from DRAM into PARAM line 0.
  void load_params(std::uint64_t address) {
    using F = isa::Load;
    Instruction load(Opcode::Load);
    load[F::buffer] = static_cast<std::uint64_t>(isa::Buffer::Param);
    load[F::dram_addr] = address;
    load[F::count_y] = 1;
    load[F::count_x] = 1;
    push(load);
  }

  void conv(std::size_t l) {
    const Layer& L = m_.model.layers[l];
    const LayerPlan& p = m_.plans[l];
    const auto in_index = static_cast<std::size_t>(L.inputs[0]);
    const TensorPlacement& src = prog_.tensors[in_index];
    const TensorPlacement& dst = prog_.tensors[l];
    const int R = cfg_.rows, C = cfg_.cols, k = p.kernel, pad = p.pad, sub = p.subsample;
    const std::int64_t out_h = L.out.shape.h, out_w = L.out.shape.w;
    // With subsampling, the input as the LOADs see it: every sub-th row and column, at stride 1 (pixel pitch and row
    // stride in DRAM scaled by sub); otherwise the input itself.
    const Shape in = sub > 1 ? Shape{src.shape.c, out_h, out_w} : src.shape;
    const int s = p.stride / sub;
    const std::uint64_t pixel_pitch = src.pixel_stride() * static_cast<std::uint64_t>(sub);
    const std::uint64_t row_stride = static_cast<std::uint64_t>(src.shape.w) * src.pixel_stride() * static_cast<std::uint64_t>(sub);
    const std::int64_t padded_w = in.w + 2 * pad;
    const std::int64_t spad_half = p.spad_double ? cfg_.spad_lines() / 2 : 0;
    const std::int64_t acc_half = p.acc_double ? cfg_.acc_lines() / 2 : 0;
    const std::int64_t wbuf_slot = std::max<std::int64_t>(R, cfg_.wbuf_lines() / 2);
    Instruction configure = config(in_index, l, p.weight_lane_bits);
    configure[isa::Config::in_pixel_stride] = pixel_pitch;
    push(configure);
    if (cfg_.products(src.lane_bits, p.weight_lane_bits) != p.products) throw std::logic_error("layer products differ from the plan's");
    // The input of band b: per block of products x R input channels, its zero-padded rows into the band's SPAD half,
    // in LOADs of at most kChunkBeats port beats each, so that a LOAD of weights or parameters queued behind them in
    // LD waits little (LD runs its LOADs in order).
    // an input block's bytes in a pixel: one SPAD line
    const auto line_bytes = static_cast<std::uint64_t>(p.products * R * src.lane_bits / 8), port_bytes = static_cast<std::uint64_t>(cfg_.mem_port_bits / 8);
    const auto line_beats = static_cast<std::int64_t>((line_bytes + port_bytes - 1) / port_bytes);
    const std::int64_t chunk_rows = std::max<std::int64_t>(1, kChunkBeats / (line_beats * padded_w));
    auto input_loads = [&](std::int64_t b) {
      const std::int64_t oy0 = b * p.band, rows = std::min(p.band, out_h - oy0);
      const std::int64_t iy0 = oy0 * s - pad, iy1 = (oy0 + rows - 1) * s - pad + k;  // input rows [iy0, iy1), padded
      std::vector<Instruction> loads;
      for (std::int64_t kb = 0; kb < p.in_blocks; ++kb)
        for (std::int64_t y0 = iy0; y0 < iy1; y0 += chunk_rows) {
          const std::int64_t y1 = std::min(iy1, y0 + chunk_rows);  // padded rows [y0, y1) of this LOAD
          // its rows above the input (zero padding), inside it, below it (zero padding)
          const std::int64_t above = std::clamp<std::int64_t>(0, y0, y1) - y0, below = y1 - std::clamp<std::int64_t>(in.h, y0, y1);
          const std::int64_t first_row = std::clamp<std::int64_t>(y0 + above, 0, in.h), inside = y1 - y0 - above - below;
          using F = isa::Load;
          Instruction load(Opcode::Load);
          load[F::buffer] = static_cast<std::uint64_t>(isa::Buffer::Spad);
          load[F::dram_addr] = src.address + static_cast<std::uint64_t>(first_row) * row_stride + static_cast<std::uint64_t>(kb) * line_bytes;
          load[F::sram_addr] = static_cast<std::uint64_t>((b % 2) * spad_half + (kb * (iy1 - iy0) + y0 - iy0) * padded_w);
          load[F::count_y] = static_cast<std::uint64_t>(inside);
          load[F::count_x] = static_cast<std::uint64_t>(in.w);
          load[F::dram_stride_y] = row_stride;
          load[F::sram_stride_y] = static_cast<std::uint64_t>(padded_w);
          load[F::pad_top] = static_cast<std::uint64_t>(above);
          load[F::pad_bottom] = static_cast<std::uint64_t>(below);
          load[F::pad_left] = load[F::pad_right] = static_cast<std::uint64_t>(pad);
          loads.push_back(load);
        }
      return loads;
    };
    const std::int64_t bands = (out_h + p.band - 1) / p.band;
    const std::int64_t matmuls = p.out_blocks * p.in_blocks * k * k;  // per band
    std::int64_t group = 0;
    std::optional<std::size_t> previous_matmul;
    for (const auto& load : input_loads(0)) push(load);
    for (std::int64_t band_index = 0; band_index < bands; ++band_index) {
      const std::int64_t oy0 = band_index * p.band, rows = std::min(p.band, out_h - oy0);
      const std::int64_t in_rows = (rows - 1) * s + k;
      const std::int64_t spad_base = (band_index % 2) * spad_half;
      // With SPAD double-buffered, the next band's input loads into the other half while this band computes:
      // its LOADs are spread evenly between this band's MATMULs (software pipelining); otherwise they follow it.
      const bool prefetch = p.spad_double && band_index + 1 < bands;
      const std::vector<Instruction> next = band_index + 1 < bands ? input_loads(band_index + 1) : std::vector<Instruction>{};
      const auto slots = static_cast<std::int64_t>(next.size()) + 1;
      std::size_t next_sent = 0;
      std::int64_t issued = 0;
      auto after_matmul = [&] {
        ++issued;
        while (prefetch && next_sent < next.size() && issued * slots >= static_cast<std::int64_t>(next_sent + 1) * matmuls) push(next[next_sent++]);
      };
      for (std::int64_t nb = 0; nb < p.out_blocks; ++nb, ++group) {
        const std::int64_t acc_base = (group % 2) * acc_half;
        bool first = true;
        for (std::int64_t kb = 0; kb < p.in_blocks; ++kb)
          for (int ky = 0; ky < k; ++ky)
            for (int kx = 0; kx < k; ++kx) {
              using F = isa::Load;
              using M = isa::Matmul;
              const std::uint64_t wbuf = static_cast<std::uint64_t>(bank_ * wbuf_slot);
              Instruction load(Opcode::Load);
              load[F::buffer] = static_cast<std::uint64_t>(isa::Buffer::Wbuf);
              load[F::dram_addr] = p.weights + static_cast<std::uint64_t>(((nb * p.in_blocks + kb) * k + ky) * k + kx) * p.tile_bytes;
              load[F::sram_addr] = wbuf;
              load[F::count_y] = 1;
              load[F::count_x] = static_cast<std::uint64_t>(R);
              // The weight tile loads one tile ahead: before the previous tile's PRELOAD (and so before the STORE that
              // may end the previous group), so the port serves it while the array is busy, and the issue stage, in
              // order, need not wait for the previous tile's data before sending it.
              if (previous_matmul) {
                prog_.code.insert(prog_.code.begin() + static_cast<std::ptrdiff_t>(*previous_matmul - 1), load);
              } else {
                push(load);
              }
              Instruction preload(Opcode::Preload);
              preload[isa::Preload::wbuf_addr] = wbuf;
              preload[isa::Preload::bank] = static_cast<std::uint64_t>(bank_);
              push(preload);
              Instruction mm(Opcode::Matmul);
              mm[M::bank] = static_cast<std::uint64_t>(bank_);
              mm[M::spad_addr] = static_cast<std::uint64_t>(spad_base + kb * in_rows * padded_w + ky * padded_w + kx);
              mm[M::spad_stride_y] = static_cast<std::uint64_t>(s * padded_w);
              mm[M::spad_stride_x] = static_cast<std::uint64_t>(s);
              mm[M::acc_addr] = static_cast<std::uint64_t>(acc_base);
              mm[M::acc_stride_y] = static_cast<std::uint64_t>(out_w);
              mm[M::count_y] = static_cast<std::uint64_t>(rows);
              mm[M::count_x] = static_cast<std::uint64_t>(out_w);
              mm[M::accumulate] = first ? 0 : 1;
              previous_matmul = prog_.code.size();
              push(mm);
              first = false;
              bank_ ^= 1;
              after_matmul();
            }
        using S = isa::Store;
        load_params(p.params[static_cast<std::size_t>(nb)]);
        Instruction store(Opcode::Store);
        store[S::acc_addr] = static_cast<std::uint64_t>(acc_base);
        store[S::acc_stride_y] = static_cast<std::uint64_t>(out_w);
        store[S::count_y] = static_cast<std::uint64_t>(rows);
        store[S::count_x] = static_cast<std::uint64_t>(out_w);
        store[S::param_addr] = 0;
        store[S::dram_addr] = dst.address + static_cast<std::uint64_t>(oy0 * out_w) * dst.pixel_stride() +
                              static_cast<std::uint64_t>(nb * C * dst.lane_bits / 8);
        store[S::dram_stride_y] = static_cast<std::uint64_t>(out_w) * dst.pixel_stride();
        push(store);
      }
      for (; next_sent < next.size(); ++next_sent) push(next[next_sent]);
    }
  }

  void pool(std::size_t l) {
    const Layer& L = m_.model.layers[l];
    const auto in_index = static_cast<std::size_t>(L.inputs[0]);
    const bool average = L.op == OpKind::AvgPool;
    push(config(in_index, l, cfg_.weight_bits));
    if (average) load_params(m_.plans[l].params.front());
    const TensorPlacement& src = prog_.tensors[in_index];
    const TensorPlacement& dst = prog_.tensors[l];
    using P = isa::Pool;
    for (std::int64_t nb = 0; nb < src.c_pad / cfg_.cols; ++nb) {
      Instruction pool(Opcode::Pool);
      pool[P::src_addr] = src.address + static_cast<std::uint64_t>(nb * cfg_.cols * src.lane_bits / 8);
      pool[P::dst_addr] = dst.address + static_cast<std::uint64_t>(nb * cfg_.cols * dst.lane_bits / 8);
      pool[P::in_h] = static_cast<std::uint64_t>(src.shape.h);
      pool[P::in_w] = static_cast<std::uint64_t>(src.shape.w);
      pool[P::out_h] = static_cast<std::uint64_t>(L.out.shape.h);
      pool[P::out_w] = static_cast<std::uint64_t>(L.out.shape.w);
      pool[P::kernel] = static_cast<std::uint64_t>(L.kernel_h);
      pool[P::stride] = static_cast<std::uint64_t>(L.stride_h);
      pool[P::pad] = static_cast<std::uint64_t>(L.pad_h);
      pool[P::average] = average;
      push(pool);
    }
  }

  void add(std::size_t l) {
    const Layer& L = m_.model.layers[l];
    const auto a = static_cast<std::size_t>(L.inputs[0]), b = static_cast<std::size_t>(L.inputs[1]);
    push(config(a, l, cfg_.weight_bits, b));
    load_params(m_.plans[l].params.front());
    using V = isa::Vadd;
    Instruction vadd(Opcode::Vadd);
    vadd[V::a_addr] = prog_.tensors[a].address;
    vadd[V::b_addr] = prog_.tensors[b].address;
    vadd[V::out_addr] = prog_.tensors[l].address;
    vadd[V::count] = static_cast<std::uint64_t>(L.out.shape.h * L.out.shape.w * prog_.tensors[l].c_pad / cfg_.cols);
    push(vadd);
  }

  Module& m_;
  const AcceleratorConfig& cfg_;
  Program& prog_;
  int bank_ = 0;
};

}  // namespace

void emit(Module& m) { Emitter(m).run(); }

}  // namespace faq::compiler
