// Lowering, layer by layer, onto the weight-stationary array (R rows = input channels, C cols = output
// channels):
//   conv2d / linear: the output is computed in bands of output rows sized so that the band's accumulators fit
//     ACC and its zero-padded input rows (for every block of R input channels) fit SPAD. Per band, each input
//     channel block is LOADed once with its padding; then for every block of C output channels, every input
//     block and every kernel tap, one R x C weight tile is LOADed, PRELOADed into alternating banks and applied
//     by one MATMUL that strides over the band (im2col by address generation); STORE adds the bias,
//     requantizes and writes the C channels of the band to DRAM. A linear layer is a 1x1 convolution of a
//     1x1 input.
//   maxpool / avgpool: one POOL per block of C channels.  add: one VADD over the dense tensors.
// DRAM holds every tensor as H x W x c_pad (channels innermost, padded with zeros to a multiple of R and C),
// lanes of 2/4/8/16 bits; weights as R x C tiles, parameters as 9-byte entries per channel (packing::kParamEntryBytes).
#include "lower.h"

#include "faq/error.h"
#include "faq/packing.h"

#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <numeric>

namespace faq::compiler {

namespace {

using isa::Instruction;
using isa::Opcode;

std::uint64_t align(std::uint64_t v, std::uint64_t a) { return (v + a - 1) / a * a; }

// The narrowest lane width (2, 4, 8, 16, 32) that holds `bits` and makes lines of every one of `lanes` whole bytes.
int lane_width(int bits, std::initializer_list<int> lanes) {
  int width = packing::lane_bits(bits);
  while (width < 32 && std::any_of(lanes.begin(), lanes.end(), [&](int n) { return (n * width) % 8 != 0; })) width *= 2;
  return width;
}

class Lowering {
 public:
  Lowering(const Model& model, const AcceleratorConfig& config) : model_(model), cfg_(config) {}

  Program run() {
    program_.config_hash = cfg_.hash();
    const std::int64_t block = std::lcm(std::int64_t{cfg_.rows}, std::int64_t{cfg_.cols});
    for (const Layer& layer : model_.layers) {  // parameters first, then activations
      TensorPlacement t;
      t.c_pad = (layer.out.shape.c + block - 1) / block * block;
      t.lane_bits = lane_width(layer.out.bits, {cfg_.rows, cfg_.cols});
      t.is_signed = layer.out.is_signed;
      program_.tensors.push_back(t);
    }
    for (std::size_t l = 0; l < model_.layers.size(); ++l) {
      program_.layer_first.push_back(program_.code.size());
      layer_ = &model_.layers[l];
      try {
        switch (layer_->op) {
          case OpKind::Input: break;
          case OpKind::Conv2d:
          case OpKind::Linear: lower_conv(l); break;
          case OpKind::MaxPool:
          case OpKind::AvgPool: lower_pool(l); break;
          case OpKind::Add: lower_add(l); break;
        }
      } catch (const InputError& e) {
        fail_input("layer '{}': {}", layer_->name, e.what());
      }
    }
    std::uint64_t address = align(program_.dram.size(), 64);
    for (std::size_t l = 0; l < model_.layers.size(); ++l) {
      program_.tensors[l].address = address;
      address = align(address + program_.tensors[l].bytes(model_.layers[l].out.shape), 64);
    }
    program_.dram.resize(address, 0);
    // Activation addresses were unknown while emitting: patch them in (instructions refer to them by layer).
    for (const auto& fix : fixups_) program_.code[fix.instruction][fix.field] += program_.tensors[fix.layer].address;
    program_.code.push_back(Instruction(Opcode::Halt));
    for (const auto& i : program_.code) isa::encode(i);  // every field fits its width
    return std::move(program_);
  }

 private:
  struct Fixup {
    std::size_t instruction;
    int field;
    std::size_t layer;
  };

  // Adds `offset` bytes into layer `tensor`'s region to field `field` of the next instruction.
  void emit(Instruction i, std::initializer_list<std::pair<int, std::size_t>> tensor_fields = {}) {
    for (const auto& [field, tensor] : tensor_fields) fixups_.push_back({program_.code.size(), field, tensor});
    program_.code.push_back(i);
  }

  std::uint64_t append_bytes(std::size_t bytes) {
    const std::uint64_t at = align(program_.dram.size(), 16);
    program_.dram.resize(at + bytes, 0);
    return at;
  }

  // One PARAM line of C entries.
  std::uint64_t append_params(const std::vector<packing::ParamEntry>& entries) {
    const std::uint64_t at = append_bytes(static_cast<std::size_t>(packing::kParamEntryBytes * cfg_.cols));
    for (std::size_t c = 0; c < entries.size(); ++c)
      packing::write_param_entry(program_.dram.data() + at + packing::kParamEntryBytes * c, entries[c]);
    return at;
  }

  // One PARAM line from DRAM into PARAM line 0.
  void load_params(std::uint64_t address) {
    using F = isa::Load;
    Instruction load(Opcode::Load);
    load[F::buffer] = static_cast<std::uint64_t>(isa::Buffer::Param);
    load[F::dram_addr] = address;
    load[F::count_y] = 1;
    load[F::count_x] = 1;
    emit(load);
  }

  Instruction config(std::size_t in, std::size_t out, int weight_bits, std::size_t res = 0) const {
    using F = isa::Config;
    const auto& t = program_.tensors;
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
    i[F::out_range_bits] = static_cast<std::uint64_t>(model_.layers[out].out.bits);
    return i;
  }

  void lower_conv(std::size_t l) {
    const Layer& L = *layer_;
    const auto in_index = static_cast<std::size_t>(L.inputs[0]);
    const Shape in = model_.layers[in_index].out.shape;
    const bool linear = L.op == OpKind::Linear;
    if (linear && (in.h != 1 || in.w != 1)) fail_input("a linear layer over a {}x{} input is not supported (flatten to 1x1 first)", in.h, in.w);
    if (!linear && L.groups != 1) fail_input("grouped convolution (groups {}) is not supported yet", L.groups);
    const TensorPlacement& src = program_.tensors[in_index];
    if (src.lane_bits > cfg_.act_bits) fail_input("input is {}-bit, the array multiplies at most {}-bit activations", src.lane_bits, cfg_.act_bits);
    const int wbits = lane_width(L.weight_bits, {cfg_.cols});
    if (wbits > cfg_.weight_bits) fail_input("weights are {}-bit, the array multiplies at most {}-bit weights", L.weight_bits, cfg_.weight_bits);
    check_accumulator(in_index);
    const int R = cfg_.rows, C = cfg_.cols;
    const int k = linear ? 1 : L.kernel_h, s = linear ? 1 : L.stride_h, p = linear ? 0 : L.pad_h;
    if (!linear && (L.kernel_w != k || L.stride_w != s || L.pad_w != p)) fail_input("non-square kernels, strides or padding are not supported yet");
    const std::int64_t c_in = in.c, c_out = L.out.shape.c;
    const std::int64_t kb_count = (c_in + R - 1) / R, nb_count = (c_out + C - 1) / C;
    const std::int64_t out_h = L.out.shape.h, out_w = L.out.shape.w, padded_w = in.w + 2 * p;

    // Weights: tile (nb, kb, ky, kx) holds R lines of C lanes.
    const std::uint64_t tile_bytes = static_cast<std::uint64_t>(R * C * wbits / 8);
    const std::uint64_t weights = append_bytes(static_cast<std::size_t>(tile_bytes) * static_cast<std::size_t>(nb_count * kb_count * k * k));
    std::vector<std::int64_t> line(static_cast<std::size_t>(C));
    auto tile_address = [&](std::int64_t nb, std::int64_t kb, int ky, int kx) {
      return weights + static_cast<std::uint64_t>(((nb * kb_count + kb) * k + ky) * k + kx) * tile_bytes;
    };
    for (std::int64_t nb = 0; nb < nb_count; ++nb)
      for (std::int64_t kb = 0; kb < kb_count; ++kb)
        for (int ky = 0; ky < k; ++ky)
          for (int kx = 0; kx < k; ++kx)
            for (int r = 0; r < R; ++r) {
              for (int c = 0; c < C; ++c) {
                const std::int64_t ci = kb * R + r, co = nb * C + c;
                line[static_cast<std::size_t>(c)] =
                    ci < c_in && co < c_out ? L.weight.data[static_cast<std::size_t>(((co * c_in + ci) * k + ky) * k + kx)] : 0;
              }
              packing::write_lanes(program_.dram.data() + tile_address(nb, kb, ky, kx) + static_cast<std::uint64_t>(r * C * wbits / 8),
                                   line.data(), C, wbits);
            }
    std::vector<std::uint64_t> params;
    for (std::int64_t nb = 0; nb < nb_count; ++nb) {
      std::vector<packing::ParamEntry> entries;
      for (std::int64_t co = nb * C; co < std::min(c_out, (nb + 1) * C); ++co) {
        const auto& q = L.requant[static_cast<std::size_t>(co)];
        entries.push_back({L.bias[static_cast<std::size_t>(co)], q.multiplier, static_cast<std::uint8_t>(q.shift)});
      }
      params.push_back(append_params(entries));
    }

    // Output bands: the largest number of output rows whose accumulators fit ACC and whose input fits SPAD.
    auto band_input_rows = [&](std::int64_t rows) { return (rows - 1) * s + k; };
    std::int64_t band = std::min(out_h, cfg_.acc_lines() / out_w);
    while (band > 0 && kb_count * band_input_rows(band) * padded_w > cfg_.spad_lines()) --band;
    if (band < 1)
      fail_input("no tiling fits: one output row needs {} ACC lines and {} SPAD lines (the buffers hold {} and {})", out_w,
                 kb_count * band_input_rows(1) * padded_w, cfg_.acc_lines(), cfg_.spad_lines());

    emit(config(in_index, l, wbits));
    const TensorPlacement& dst = program_.tensors[l];
    int bank = 0;
    for (std::int64_t oy0 = 0; oy0 < out_h; oy0 += band) {
      const std::int64_t rows = std::min(band, out_h - oy0);
      const std::int64_t iy0 = oy0 * s - p, iy1 = (oy0 + rows - 1) * s - p + k;  // input rows [iy0, iy1), padded
      const std::int64_t pad_top = std::max<std::int64_t>(0, -iy0), pad_bottom = std::max<std::int64_t>(0, iy1 - in.h);
      const std::int64_t first_row = std::max<std::int64_t>(0, iy0), dram_rows = std::min(iy1, in.h) - first_row;
      const std::int64_t in_rows = iy1 - iy0;
      for (std::int64_t kb = 0; kb < kb_count; ++kb) {
        using F = isa::Load;
        Instruction load(Opcode::Load);
        load[F::buffer] = static_cast<std::uint64_t>(isa::Buffer::Spad);
        load[F::dram_addr] = static_cast<std::uint64_t>(first_row * in.w) * src.pixel_stride() + static_cast<std::uint64_t>(kb * R * src.lane_bits / 8);
        load[F::sram_addr] = static_cast<std::uint64_t>(kb * in_rows * padded_w);
        load[F::count_y] = static_cast<std::uint64_t>(dram_rows);
        load[F::count_x] = static_cast<std::uint64_t>(in.w);
        load[F::dram_stride_y] = static_cast<std::uint64_t>(in.w) * src.pixel_stride();
        load[F::sram_stride_y] = static_cast<std::uint64_t>(padded_w);
        load[F::pad_top] = static_cast<std::uint64_t>(pad_top);
        load[F::pad_bottom] = static_cast<std::uint64_t>(pad_bottom);
        load[F::pad_left] = load[F::pad_right] = static_cast<std::uint64_t>(p);
        emit(load, {{F::dram_addr, in_index}});
      }
      for (std::int64_t nb = 0; nb < nb_count; ++nb) {
        bool first = true;
        for (std::int64_t kb = 0; kb < kb_count; ++kb)
          for (int ky = 0; ky < k; ++ky)
            for (int kx = 0; kx < k; ++kx) {
              using F = isa::Load;
              using M = isa::Matmul;
              Instruction load(Opcode::Load);
              load[F::buffer] = static_cast<std::uint64_t>(isa::Buffer::Wbuf);
              load[F::dram_addr] = tile_address(nb, kb, ky, kx);
              load[F::sram_addr] = static_cast<std::uint64_t>(bank * R);
              load[F::count_y] = 1;
              load[F::count_x] = static_cast<std::uint64_t>(R);
              emit(load);
              Instruction preload(Opcode::Preload);
              preload[isa::Preload::wbuf_addr] = static_cast<std::uint64_t>(bank * R);
              preload[isa::Preload::bank] = static_cast<std::uint64_t>(bank);
              emit(preload);
              Instruction mm(Opcode::Matmul);
              mm[M::bank] = static_cast<std::uint64_t>(bank);
              mm[M::spad_addr] = static_cast<std::uint64_t>(kb * in_rows * padded_w + ky * padded_w + kx);
              mm[M::spad_stride_y] = static_cast<std::uint64_t>(s * padded_w);
              mm[M::spad_stride_x] = static_cast<std::uint64_t>(s);
              mm[M::acc_addr] = 0;
              mm[M::acc_stride_y] = static_cast<std::uint64_t>(out_w);
              mm[M::count_y] = static_cast<std::uint64_t>(rows);
              mm[M::count_x] = static_cast<std::uint64_t>(out_w);
              mm[M::accumulate] = first ? 0 : 1;
              emit(mm);
              first = false;
              bank ^= 1;
            }
        using S = isa::Store;
        load_params(params[static_cast<std::size_t>(nb)]);
        Instruction store(Opcode::Store);
        store[S::acc_addr] = 0;
        store[S::acc_stride_y] = static_cast<std::uint64_t>(out_w);
        store[S::count_y] = static_cast<std::uint64_t>(rows);
        store[S::count_x] = static_cast<std::uint64_t>(out_w);
        store[S::param_addr] = 0;
        store[S::dram_addr] = static_cast<std::uint64_t>(oy0 * out_w) * dst.pixel_stride() + static_cast<std::uint64_t>(nb * C * dst.lane_bits / 8);
        store[S::dram_stride_y] = static_cast<std::uint64_t>(out_w) * dst.pixel_stride();
        emit(store, {{S::dram_addr, l}});
      }
    }
  }

  // A configuration with accumulators narrower than 32 bits may only run a layer that cannot overflow them.
  void check_accumulator(std::size_t in_index) const {
    if (cfg_.acc_bits >= 32) return;
    const Layer& L = *layer_;
    const auto range = model_.layers[in_index].out.range();
    const std::int64_t max_in = std::max(-range.lo, range.hi);
    const std::int64_t per_channel = L.weight.data.size() == 0 ? 0 : static_cast<std::int64_t>(L.weight.data.size()) / L.out.shape.c;
    for (std::int64_t o = 0; o < L.out.shape.c; ++o) {
      std::int64_t bound = std::abs(static_cast<std::int64_t>(L.bias[static_cast<std::size_t>(o)]));
      for (std::int64_t i = 0; i < per_channel; ++i) bound += std::abs(static_cast<std::int64_t>(L.weight.data[static_cast<std::size_t>(o * per_channel + i)])) * max_in;
      if (bound >= (std::int64_t{1} << (cfg_.acc_bits - 1)))
        fail_input("channel {} may reach {}, beyond the {}-bit accumulator", o, bound, cfg_.acc_bits);
    }
  }

  void lower_pool(std::size_t l) {
    const Layer& L = *layer_;
    const auto in_index = static_cast<std::size_t>(L.inputs[0]);
    const Shape in = model_.layers[in_index].out.shape;
    if (L.kernel_w != L.kernel_h || L.stride_w != L.stride_h || L.pad_w != L.pad_h) fail_input("non-square pooling is not supported yet");
    const bool average = L.op == OpKind::AvgPool;
    std::uint64_t params = 0;
    if (average) {
      const packing::ParamEntry entry{0, L.requant[0].multiplier, static_cast<std::uint8_t>(L.requant[0].shift)};
      params = append_params(std::vector<packing::ParamEntry>(static_cast<std::size_t>(cfg_.cols), entry));
    }
    emit(config(in_index, l, cfg_.weight_bits));
    if (average) {
      load_params(params);
    }
    const TensorPlacement& src = program_.tensors[in_index];
    const TensorPlacement& dst = program_.tensors[l];
    using P = isa::Pool;
    for (std::int64_t nb = 0; nb < src.c_pad / cfg_.cols; ++nb) {
      Instruction pool(Opcode::Pool);
      pool[P::src_addr] = static_cast<std::uint64_t>(nb * cfg_.cols * src.lane_bits / 8);
      pool[P::dst_addr] = static_cast<std::uint64_t>(nb * cfg_.cols * dst.lane_bits / 8);
      pool[P::in_h] = static_cast<std::uint64_t>(in.h);
      pool[P::in_w] = static_cast<std::uint64_t>(in.w);
      pool[P::out_h] = static_cast<std::uint64_t>(L.out.shape.h);
      pool[P::out_w] = static_cast<std::uint64_t>(L.out.shape.w);
      pool[P::kernel] = static_cast<std::uint64_t>(L.kernel_h);
      pool[P::stride] = static_cast<std::uint64_t>(L.stride_h);
      pool[P::pad] = static_cast<std::uint64_t>(L.pad_h);
      pool[P::average] = average;
      emit(pool, {{P::src_addr, in_index}, {P::dst_addr, l}});
    }
  }

  void lower_add(std::size_t l) {
    const Layer& L = *layer_;
    const auto a = static_cast<std::size_t>(L.inputs[0]), b = static_cast<std::size_t>(L.inputs[1]);
    const packing::ParamEntry entry{L.add.multiplier_a, L.add.multiplier_b, static_cast<std::uint8_t>(L.add.shift)};
    const std::uint64_t params = append_params(std::vector<packing::ParamEntry>(static_cast<std::size_t>(cfg_.cols), entry));
    emit(config(a, l, cfg_.weight_bits, b));
    load_params(params);
    using V = isa::Vadd;
    Instruction vadd(Opcode::Vadd);
    vadd[V::count] = static_cast<std::uint64_t>(L.out.shape.h * L.out.shape.w * program_.tensors[l].c_pad / cfg_.cols);
    emit(vadd, {{V::a_addr, a}, {V::b_addr, b}, {V::out_addr, l}});
  }

  const Model& model_;
  const AcceleratorConfig& cfg_;
  const Layer* layer_ = nullptr;
  Program program_;
  std::vector<Fixup> fixups_;
};

}  // namespace

Program compile(const Model& model, const AcceleratorConfig& config) { return Lowering(model, config).run(); }

void place_input(const Model& model, const Program& program, const IntTensor& input, std::vector<std::uint8_t>& dram) {
  const TensorPlacement& t = program.tensors[0];
  const Shape& s = model.input().out.shape;
  std::vector<std::int64_t> pixel(static_cast<std::size_t>(t.c_pad), 0);
  for (std::int64_t y = 0; y < s.h; ++y)
    for (std::int64_t x = 0; x < s.w; ++x) {
      for (std::int64_t c = 0; c < s.c; ++c) pixel[static_cast<std::size_t>(c)] = input.data[static_cast<std::size_t>((c * s.h + y) * s.w + x)];
      packing::write_lanes(dram.data() + t.address + static_cast<std::uint64_t>(y * s.w + x) * t.pixel_stride(), pixel.data(),
                           static_cast<int>(t.c_pad), t.lane_bits);
    }
}

IntTensor read_tensor(const Model& model, const Program& program, std::size_t layer, const std::vector<std::uint8_t>& dram) {
  const TensorPlacement& t = program.tensors[layer];
  const Shape& s = model.layers[layer].out.shape;
  IntTensor out{{s.c, s.h, s.w}, std::vector<std::int32_t>(static_cast<std::size_t>(s.numel()))};
  std::vector<std::int64_t> pixel(static_cast<std::size_t>(t.c_pad));
  for (std::int64_t y = 0; y < s.h; ++y)
    for (std::int64_t x = 0; x < s.w; ++x) {
      packing::read_lanes(dram.data() + t.address + static_cast<std::uint64_t>(y * s.w + x) * t.pixel_stride(), pixel.data(),
                          static_cast<int>(t.c_pad), t.lane_bits, t.is_signed);
      for (std::int64_t c = 0; c < s.c; ++c) out.data[static_cast<std::size_t>((c * s.h + y) * s.w + x)] = static_cast<std::int32_t>(pixel[static_cast<std::size_t>(c)]);
    }
  return out;
}

}  // namespace faq::compiler
