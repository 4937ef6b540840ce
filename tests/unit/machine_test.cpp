// The instruction-level simulator against the reference interpreter: hand-written programs for convolutions
// (several kernels, strides, paddings, channel counts that need several tiles), residual addition and
// pooling produce in DRAM exactly what faq::run_layer computes; faults are reported, never ignored.
#include "faq/error.h"
#include "faq/packing.h"
#include "faq/reference.h"
#include "faq/sim/machine.h"

#include "instructions.h"

#include <gtest/gtest.h>

#include <random>

namespace faq::sim {
namespace {

using isa::Instruction;
using isa::Opcode;

using testing::make;

Instruction config(int in_bits, bool in_signed, int out_bits, bool out_signed, std::uint64_t in_stride, std::uint64_t out_stride,
                   int res_bits = 8, bool res_signed = true) {
  using F = isa::Config;
  return make(Opcode::Config, {{F::in_bits, in_bits}, {F::in_signed, in_signed}, {F::weight_bits, 8}, {F::out_bits, out_bits},
                               {F::out_signed, out_signed}, {F::res_bits, res_bits}, {F::res_signed, res_signed},
                               {F::in_pixel_stride, in_stride}, {F::out_pixel_stride, out_stride}, {F::out_range_bits, out_bits}});
}

// A [C, H, W] tensor as H x W x c_pad pixels of `bits`-bit lanes, and back.
void pack_hwc(std::vector<std::uint8_t>& dram, std::uint64_t base, const IntTensor& t, std::int64_t c_pad, int bits) {
  const auto c = t.shape[0], h = t.shape[1], w = t.shape[2];
  std::vector<std::int64_t> pixel(static_cast<std::size_t>(c_pad), 0);
  for (std::int64_t y = 0; y < h; ++y)
    for (std::int64_t x = 0; x < w; ++x) {
      for (std::int64_t ch = 0; ch < c; ++ch) pixel[static_cast<std::size_t>(ch)] = t.data[static_cast<std::size_t>((ch * h + y) * w + x)];
      packing::write_lanes(dram.data() + base + static_cast<std::uint64_t>((y * w + x) * c_pad * bits / 8), pixel.data(),
                           static_cast<int>(c_pad), bits);
    }
}

IntTensor unpack_hwc(const std::vector<std::uint8_t>& dram, std::uint64_t base, std::int64_t c, std::int64_t h, std::int64_t w,
                     std::int64_t c_pad, int bits, bool is_signed) {
  IntTensor t{{c, h, w}, std::vector<std::int32_t>(static_cast<std::size_t>(c * h * w))};
  std::vector<std::int64_t> pixel(static_cast<std::size_t>(c_pad));
  for (std::int64_t y = 0; y < h; ++y)
    for (std::int64_t x = 0; x < w; ++x) {
      packing::read_lanes(dram.data() + base + static_cast<std::uint64_t>((y * w + x) * c_pad * bits / 8), pixel.data(),
                          static_cast<int>(c_pad), bits, is_signed);
      for (std::int64_t ch = 0; ch < c; ++ch)
        t.data[static_cast<std::size_t>((ch * h + y) * w + x)] = static_cast<std::int32_t>(pixel[static_cast<std::size_t>(ch)]);
    }
  return t;
}

// `count` PARAM entries, all equal to `entry`, from DRAM address `at`.
void put_params(std::vector<std::uint8_t>& dram, std::uint64_t at, int count, const packing::ParamEntry& entry) {
  for (int c = 0; c < count; ++c)
    packing::write_param_entry(dram.data() + at + static_cast<std::uint64_t>(packing::kParamEntryBytes * c), entry);
}

IntTensor random_tensor(std::mt19937_64& rng, std::vector<std::int64_t> shape, arith::Range range) {
  std::int64_t n = 1;
  for (auto d : shape) n *= d;
  std::uniform_int_distribution<std::int64_t> dist(range.lo, range.hi);
  IntTensor t{shape, {}};
  for (std::int64_t i = 0; i < n; ++i) t.data.push_back(static_cast<std::int32_t>(dist(rng)));
  return t;
}

// A convolution written as a program by hand: the input block is loaded once per channel block with
// zero padding, each (input block, output block, kernel tap) is one PRELOAD + MATMUL, STORE requantizes.
void check_conv(const AcceleratorConfig& cfg, std::int64_t c_in, std::int64_t c_out, std::int64_t size, int kernel, int stride,
                int pad, std::uint64_t seed) {
  std::mt19937_64 rng(seed);
  const int R = cfg.rows, C = cfg.cols;
  Layer layer;
  layer.name = "conv";
  layer.op = OpKind::Conv2d;
  layer.kernel_h = layer.kernel_w = kernel;
  layer.stride_h = layer.stride_w = stride;
  layer.pad_h = layer.pad_w = pad;
  layer.weight_bits = 8;
  const std::int64_t out = (size + 2 * pad - kernel) / stride + 1;
  layer.out = {{c_out, out, out}, 8, false, 1.0};
  layer.weight = random_tensor(rng, {c_out, c_in, kernel, kernel}, arith::weight_range(8));
  std::uniform_int_distribution<std::int32_t> bias(-5000, 5000), mult(1 << 28, (1 << 30) - 1);
  for (std::int64_t o = 0; o < c_out; ++o) {
    layer.bias.push_back(bias(rng));
    layer.requant.push_back({mult(rng), 40});
    layer.weight_scale.push_back(1.0f);
  }
  const IntTensor input = random_tensor(rng, {c_in, size, size}, arith::activation_range(8, true));
  const IntTensor expected = run_layer(layer, {&input});

  const std::int64_t c_pad = ((std::max(c_in, c_out) + R * C - 1) / (R * C)) * (R * C);
  const std::int64_t kb_count = (c_in + R - 1) / R, nb_count = (c_out + C - 1) / C;
  const std::uint64_t in_addr = 0, pixel = static_cast<std::uint64_t>(c_pad);
  const std::uint64_t w_addr = in_addr + static_cast<std::uint64_t>(size * size) * pixel;
  const std::uint64_t tile_bytes = static_cast<std::uint64_t>(R * C);
  const std::uint64_t p_addr = w_addr + static_cast<std::uint64_t>(kb_count * nb_count * kernel * kernel) * tile_bytes;
  const std::uint64_t out_addr = p_addr + static_cast<std::uint64_t>(nb_count * packing::kParamEntryBytes * C);
  std::vector<std::uint8_t> dram(out_addr + static_cast<std::uint64_t>(out * out) * pixel, 0);
  pack_hwc(dram, in_addr, input, c_pad, 8);
  for (std::int64_t kb = 0; kb < kb_count; ++kb)
    for (std::int64_t nb = 0; nb < nb_count; ++nb)
      for (int ky = 0; ky < kernel; ++ky)
        for (int kx = 0; kx < kernel; ++kx) {
          const std::uint64_t tile = w_addr + static_cast<std::uint64_t>(((kb * nb_count + nb) * kernel + ky) * kernel + kx) * tile_bytes;
          for (int r = 0; r < R; ++r)
            for (int c = 0; c < C; ++c) {
              const std::int64_t ci = kb * R + r, co = nb * C + c;
              const std::int32_t w = ci < c_in && co < c_out ? layer.weight.data[static_cast<std::size_t>(((co * c_in + ci) * kernel + ky) * kernel + kx)] : 0;
              dram[tile + static_cast<std::uint64_t>(r * C + c)] = static_cast<std::uint8_t>(w);
            }
        }
  for (std::int64_t co = 0; co < c_out; ++co) {  // channel co is entry co % C of PARAM line co / C
    const auto& q = layer.requant[static_cast<std::size_t>(co)];
    put_params(dram, p_addr + static_cast<std::uint64_t>(co * packing::kParamEntryBytes), 1,
               {layer.bias[static_cast<std::size_t>(co)], q.multiplier, static_cast<std::uint8_t>(q.shift)});
  }

  std::vector<Instruction> program;
  program.push_back(config(8, true, 8, false, pixel, pixel));
  const std::int64_t padded = size + 2 * pad;
  for (std::int64_t kb = 0; kb < kb_count; ++kb) {
    using L = isa::Load;
    program.push_back(make(Opcode::Load, {{L::buffer, 0}, {L::dram_addr, in_addr + static_cast<std::uint64_t>(kb * R)},
                                          {L::sram_addr, static_cast<std::uint64_t>(kb * padded * padded)}, {L::count_y, size}, {L::count_x, size},
                                          {L::dram_stride_y, static_cast<std::uint64_t>(size) * pixel}, {L::sram_stride_y, padded},
                                          {L::pad_top, pad}, {L::pad_bottom, pad}, {L::pad_left, pad}, {L::pad_right, pad}}));
  }
  for (std::int64_t nb = 0; nb < nb_count; ++nb) {
    bool first = true;
    for (std::int64_t kb = 0; kb < kb_count; ++kb)
      for (int ky = 0; ky < kernel; ++ky)
        for (int kx = 0; kx < kernel; ++kx) {
          using L = isa::Load;
          using M = isa::Matmul;
          const std::uint64_t tile = w_addr + static_cast<std::uint64_t>(((kb * nb_count + nb) * kernel + ky) * kernel + kx) * tile_bytes;
          const std::uint64_t bank = static_cast<std::uint64_t>((ky * kernel + kx) % 2);
          program.push_back(make(Opcode::Load, {{L::buffer, 1}, {L::dram_addr, tile}, {L::sram_addr, bank * static_cast<std::uint64_t>(R)},
                                                {L::count_y, 1}, {L::count_x, R}}));
          program.push_back(make(Opcode::Preload, {{isa::Preload::wbuf_addr, bank * static_cast<std::uint64_t>(R)}, {isa::Preload::bank, bank}}));
          program.push_back(make(Opcode::Matmul, {{M::bank, bank}, {M::spad_addr, static_cast<std::uint64_t>(kb * padded * padded + ky * padded + kx)},
                                                  {M::spad_stride_y, static_cast<std::uint64_t>(stride * padded)}, {M::spad_stride_x, stride},
                                                  {M::acc_addr, 0}, {M::acc_stride_y, out}, {M::count_y, out}, {M::count_x, out},
                                                  {M::accumulate, first ? 0u : 1u}}));
          first = false;
        }
    using L = isa::Load;
    using S = isa::Store;
    program.push_back(make(Opcode::Load, {{L::buffer, 3}, {L::dram_addr, p_addr + static_cast<std::uint64_t>(nb * packing::kParamEntryBytes * C)}, {L::count_y, 1}, {L::count_x, 1}}));
    program.push_back(make(Opcode::Store, {{S::acc_addr, 0}, {S::acc_stride_y, out}, {S::count_y, out}, {S::count_x, out}, {S::param_addr, 0},
                                           {S::dram_addr, out_addr + static_cast<std::uint64_t>(nb * C)},
                                           {S::dram_stride_y, static_cast<std::uint64_t>(out) * pixel}}));
  }
  program.push_back(Instruction(Opcode::Halt));
  // Every instruction also survives the binary encoding.
  for (auto& i : program) i = isa::decode(isa::encode(i));

  Machine machine(cfg, dram);
  machine.run(program, 1'000'000);
  const IntTensor actual = unpack_hwc(machine.dram(), out_addr, c_out, out, out, c_pad, 8, false);
  for (std::size_t e = 0; e < expected.data.size(); ++e)
    ASSERT_EQ(actual.data[e], expected.data[e]) << "element " << e << " of conv " << c_in << "->" << c_out << " k" << kernel << " s" << stride
                                                << " p" << pad << " on " << cfg.rows << "x" << cfg.cols;
}

TEST(Machine, ConvolutionsEqualReference) {
  const auto tiny = AcceleratorConfig::load("tiny");
  const auto wide = AcceleratorConfig::load("wide");
  check_conv(tiny, 8, 8, 3, 1, 1, 0, 1);    // 1x1, two input and two output blocks
  check_conv(tiny, 3, 5, 5, 3, 1, 1, 2);    // 3x3 padded, ragged channels
  check_conv(tiny, 6, 4, 7, 3, 2, 1, 3);    // stride 2
  check_conv(wide, 10, 40, 6, 3, 1, 1, 4);  // 8x32 array
  check_conv(tiny, 4, 4, 9, 7, 2, 3, 5);    // 7x7/2 stem-like
}

TEST(Machine, ResidualAddAndPooling) {
  const auto cfg = AcceleratorConfig::load("tiny");
  std::mt19937_64 rng(9);
  const IntTensor a = random_tensor(rng, {4, 3, 3}, arith::activation_range(4, false));
  const IntTensor b = random_tensor(rng, {4, 3, 3}, arith::activation_range(8, true));
  Layer add;
  add.name = "add";
  add.op = OpKind::Add;
  add.out = {{4, 3, 3}, 4, false, 1.0};
  add.add = arith::quantize_add_multipliers(0.3, 0.05, 0.4);
  const IntTensor expected_add = run_layer(add, {&a, &b});

  std::vector<std::uint8_t> dram(1024, 0);
  pack_hwc(dram, 0, a, 4, 4);      // 2 bytes per pixel
  pack_hwc(dram, 64, b, 4, 8);     // 4 bytes per pixel
  put_params(dram, 512, 4, {add.add.multiplier_a, add.add.multiplier_b, static_cast<std::uint8_t>(add.add.shift)});
  using L = isa::Load;
  using V = isa::Vadd;
  using P = isa::Pool;
  std::vector<Instruction> program = {
      config(4, false, 4, false, 2, 2, 8, true),
      make(Opcode::Load, {{L::buffer, 3}, {L::dram_addr, 512}, {L::count_y, 1}, {L::count_x, 1}}),
      make(Opcode::Vadd, {{V::a_addr, 0}, {V::b_addr, 64}, {V::out_addr, 128}, {V::count, 9}, {V::param_addr, 0}}),
      // max pool 2x2 stride 1 pad 1 of the sum (4x4 output), then global average of the sum
      make(Opcode::Pool, {{P::src_addr, 128}, {P::dst_addr, 200}, {P::in_h, 3}, {P::in_w, 3}, {P::out_h, 4}, {P::out_w, 4},
                          {P::kernel, 2}, {P::stride, 1}, {P::pad, 1}, {P::average, 0}}),
      make(Opcode::Pool, {{P::src_addr, 128}, {P::dst_addr, 300}, {P::in_h, 3}, {P::in_w, 3}, {P::out_h, 1}, {P::out_w, 1},
                          {P::kernel, 3}, {P::stride, 1}, {P::pad, 0}, {P::average, 1}, {P::param_addr, 1}}),
      Instruction(Opcode::Halt)};
  // PARAM line 1: average pooling by 1/9 (bias 0)
  const auto avg_q = arith::quantize_multiplier(1.0 / 9);
  put_params(dram, 600, 4, {0, avg_q.multiplier, static_cast<std::uint8_t>(avg_q.shift)});
  program.insert(program.begin() + 4, make(Opcode::Load, {{L::buffer, 3}, {L::dram_addr, 600}, {L::sram_addr, 1}, {L::count_y, 1}, {L::count_x, 1}}));
  Machine machine(cfg, dram);
  machine.run(program, 100);
  EXPECT_EQ(unpack_hwc(machine.dram(), 128, 4, 3, 3, 4, 4, false), expected_add);

  Layer maxpool;
  maxpool.name = "max";
  maxpool.op = OpKind::MaxPool;
  maxpool.kernel_h = maxpool.kernel_w = 2;
  maxpool.pad_h = maxpool.pad_w = 1;
  maxpool.out = {{4, 4, 4}, 4, false, 1.0};
  EXPECT_EQ(unpack_hwc(machine.dram(), 200, 4, 4, 4, 4, 4, false), run_layer(maxpool, {&expected_add}));
  Layer avg;
  avg.name = "avg";
  avg.op = OpKind::AvgPool;
  avg.kernel_h = avg.kernel_w = 3;
  avg.requant = {avg_q};
  avg.out = {{4, 1, 1}, 4, false, 1.0};
  EXPECT_EQ(unpack_hwc(machine.dram(), 300, 4, 1, 1, 4, 4, false), run_layer(avg, {&expected_add}));
}

TEST(Machine, FaultsAreReported) {
  const auto cfg = AcceleratorConfig::load("tiny");
  using L = isa::Load;
  const std::vector<std::uint8_t> dram(64, 0);
  {
    Machine m(cfg, dram);
    const std::vector<Instruction> p = {config(8, true, 8, true, 4, 4), make(Opcode::Load, {{L::buffer, 0}, {L::dram_addr, 60}, {L::count_y, 1}, {L::count_x, 2}})};
    EXPECT_THROW(m.run(p, 10), InputError);  // reads past the end of DRAM
  }
  {
    Machine m(cfg, dram);
    const std::vector<Instruction> p = {make(Opcode::Load, {{L::buffer, 2}, {L::sram_addr, 5000}, {L::count_y, 1}, {L::count_x, 1}})};
    try {
      m.run(p, 10);
      FAIL();
    } catch (const InputError& e) {
      EXPECT_NE(std::string(e.what()).find("ACC line 5000"), std::string::npos) << e.what();
    }
  }
  {
    Machine m(cfg, dram);
    const std::vector<Instruction> p = {config(8, true, 8, true, 4, 4)};
    EXPECT_THROW(m.run(p, 10), InputError);  // no HALT
  }
  {
    Machine m(cfg, dram);
    EXPECT_THROW(m.execute(config(3, true, 8, true, 4, 4)), InputError);  // 3-bit lanes
  }
  {
    Machine m(cfg, dram);
    try {
      m.execute(make(Opcode::Load, {{L::buffer, 3}, {L::count_y, 1}, {L::count_x, 1}, {L::pad_right, 1}}));
      FAIL();
    } catch (const InputError& e) {
      EXPECT_NE(std::string(e.what()).find("PARAM cannot be padded"), std::string::npos) << e.what();
    }
  }
}

// A precision-scalable array: a line or bank written under one packing (products per PE) is not read under another.
TEST(Machine, ScalablePackingChangeIsAFault) {
  auto cfg = AcceleratorConfig::load("tiny");
  cfg.scalable = true;
  using L = isa::Load;
  using M = isa::Matmul;
  const std::vector<std::uint8_t> dram(256, 0);
  const Instruction load_spad = make(Opcode::Load, {{L::buffer, 0}, {L::count_y, 1}, {L::count_x, 1}});
  const Instruction load_wbuf = make(Opcode::Load, {{L::buffer, 1}, {L::count_y, 1}, {L::count_x, 4}});
  const Instruction preload = make(Opcode::Preload, {});
  const Instruction matmul = make(Opcode::Matmul, {{M::count_y, 1}, {M::count_x, 1}});
  auto fault_of = [&](const std::vector<Instruction>& p) {
    Machine m(cfg, dram);
    try {
      for (const auto& i : p) m.execute(i);
    } catch (const InputError& e) {
      return std::string(e.what());
    }
    return std::string();
  };
  // W8A8 (k = 1) throughout, or W8A4 (4-bit activations, k = 2) throughout: no fault
  EXPECT_EQ(fault_of({config(8, true, 8, true, 4, 4), load_spad, load_wbuf, preload, matmul}), "");
  EXPECT_EQ(fault_of({config(4, true, 8, true, 4, 4), load_spad, load_wbuf, preload, matmul}), "");
  const std::string spad = fault_of({config(8, true, 8, true, 4, 4), load_spad, config(4, true, 8, true, 4, 4), load_wbuf, preload, matmul});
  EXPECT_NE(spad.find("SPAD line 0 was written with 1 products per PE, read with 2"), std::string::npos) << spad;
  const std::string bank = fault_of({config(4, true, 8, true, 4, 4), load_wbuf, preload, config(8, true, 8, true, 4, 4), load_spad, matmul});
  EXPECT_NE(bank.find("weight bank 0 was written with 2 products per PE, read with 1"), std::string::npos) << bank;
  // the same program on a fixed array (k = 1 always) runs
  cfg.scalable = false;
  EXPECT_EQ(fault_of({config(8, true, 8, true, 4, 4), load_spad, config(4, true, 8, true, 4, 4), load_wbuf, preload, matmul}), "");
}

// With dram_addr_bits = n the accelerator forms n-bit addresses: an access reaching 2^n is a fault even where the
// memory image is larger (the RTL would wrap it).
TEST(Machine, AccessBeyondTheDramAddressBitsIsAFault) {
  auto cfg = AcceleratorConfig::load("tiny");
  cfg.dram_addr_bits = 16;
  using L = isa::Load;
  const std::vector<std::uint8_t> dram(std::size_t{1} << 17, 0);
  auto fault_of = [&](std::uint64_t address) {
    Machine m(cfg, dram);
    try {
      m.execute(config(8, true, 8, true, 4, 4));
      m.execute(make(Opcode::Load, {{L::buffer, 0}, {L::dram_addr, address}, {L::count_y, 1}, {L::count_x, 1}}));
    } catch (const InputError& e) {
      return std::string(e.what());
    }
    return std::string();
  };
  const std::uint64_t line = static_cast<std::uint64_t>(cfg.spad_line_bits() / 8);
  EXPECT_EQ(fault_of((1u << 16) - line), "");
  const std::string beyond = fault_of((1u << 16) - line + 1);
  EXPECT_NE(beyond.find("beyond the accelerator's 16-bit addresses (dram_addr_bits)"), std::string::npos) << beyond;
}

}  // namespace
}  // namespace faq::sim
