// Pass layout: the DRAM image. Weights of each convolution as rows x cols tiles (tile (nb, kb, ky, kx) holds
// `rows` lines of `cols` lanes), one PARAM line (cols entries of packing::kParamEntryBytes) per output block,
// pooling and residual parameters; then every activation tensor as H x W x c_pad, channels innermost and padded
// with zeros to a multiple of rows and cols, lanes of 2/4/8/16 bits, each region 64-byte aligned.
#include "passes.h"

#include "faq/error.h"
#include "faq/packing.h"

#include <numeric>

namespace faq::compiler {

namespace {

std::uint64_t align(std::uint64_t v, std::uint64_t a) { return (v + a - 1) / a * a; }

class Layout {
 public:
  explicit Layout(Module& m) : m_(m), cfg_(m.config), dram_(m.program.dram) {}

  void run() {
    // channel blocks of every layout: any input block (up to max_products x rows channels) and output block
    const std::int64_t block = std::lcm(std::int64_t{cfg_.max_products()} * cfg_.rows, std::int64_t{cfg_.cols});
    for (const Layer& layer : m_.model.layers) {
      TensorPlacement t;
      t.shape = layer.out.shape;
      t.c_pad = (layer.out.shape.c + block - 1) / block * block;
      t.lane_bits = lane_width(layer.out.bits, {cfg_.rows, cfg_.cols});
      t.bits = layer.out.bits;
      t.is_signed = layer.out.is_signed;
      m_.program.tensors.push_back(t);
    }
    for (std::size_t l = 0; l < m_.model.layers.size(); ++l) {
      const Layer& L = m_.model.layers[l];
      LayerPlan& p = m_.plans[l];
      if (L.has_weights()) {
        place_weights(L, p);
        for (std::int64_t nb = 0; nb < p.out_blocks; ++nb) {
          std::vector<packing::ParamEntry> entries;
          for (std::int64_t co = nb * cfg_.cols; co < std::min(L.out.shape.c, (nb + 1) * cfg_.cols); ++co) {
            const auto& q = L.requant[static_cast<std::size_t>(co)];
            entries.push_back({L.bias[static_cast<std::size_t>(co)], q.multiplier, static_cast<std::uint8_t>(q.shift)});
          }
          p.params.push_back(append_params(entries));
        }
      } else if (L.op == OpKind::AvgPool) {
        const packing::ParamEntry entry{0, L.requant[0].multiplier, static_cast<std::uint8_t>(L.requant[0].shift)};
        p.params.push_back(append_params(std::vector<packing::ParamEntry>(static_cast<std::size_t>(cfg_.cols), entry)));
      } else if (L.op == OpKind::Add) {
        const packing::ParamEntry entry{L.add.multiplier_a, L.add.multiplier_b, static_cast<std::uint8_t>(L.add.shift)};
        p.params.push_back(append_params(std::vector<packing::ParamEntry>(static_cast<std::size_t>(cfg_.cols), entry)));
      }
    }
    std::uint64_t address = align(dram_.size(), 64);
    for (auto& t : m_.program.tensors) {
      t.address = address;
      address = align(address + t.bytes(), 64);
    }
    dram_.resize(address, 0);
    if (address > cfg_.dram_bytes())
      fail_input("the model's DRAM image takes {} bytes; configuration '{}' addresses {} (field 'dram_addr_bits' = {})",
                 address, cfg_.name, cfg_.dram_bytes(), cfg_.dram_addr_bits);
  }

 private:
  std::uint64_t append_bytes(std::uint64_t bytes) {
    const std::uint64_t at = align(dram_.size(), 16);
    dram_.resize(at + bytes, 0);
    return at;
  }

  std::uint64_t append_params(const std::vector<packing::ParamEntry>& entries) {
    const std::uint64_t at = append_bytes(static_cast<std::uint64_t>(packing::kParamEntryBytes * cfg_.cols));
    for (std::size_t c = 0; c < entries.size(); ++c) packing::write_param_entry(dram_.data() + at + packing::kParamEntryBytes * c, entries[c]);
    return at;
  }

  // A tile (nb, kb, ky, kx) is `rows` lines of products x cols lanes: lane c·products + j of line r holds the weight
  // of output channel nb·cols + c and input channel (kb·rows + r)·products + j (docs/isa.md, PRELOAD).
  void place_weights(const Layer& L, LayerPlan& p) {
    const int R = cfg_.rows, C = cfg_.cols, k = p.kernel, n = p.products, lanes = p.products * C;
    const std::int64_t c_in = L.weight.shape[1], c_out = L.out.shape.c;
    p.weight_lane_bits = lane_width(L.weight_bits, {C});
    const auto line_bytes = static_cast<std::uint64_t>(lanes * p.weight_lane_bits / 8);
    p.tile_bytes = static_cast<std::uint64_t>(R) * line_bytes;
    p.weights = append_bytes(p.tile_bytes * static_cast<std::uint64_t>(p.out_blocks * p.in_blocks * k * k));
    std::vector<std::int64_t> line(static_cast<std::size_t>(lanes));
    std::uint64_t at = p.weights;
    for (std::int64_t nb = 0; nb < p.out_blocks; ++nb)
      for (std::int64_t kb = 0; kb < p.in_blocks; ++kb)
        for (int ky = 0; ky < k; ++ky)
          for (int kx = 0; kx < k; ++kx)
            for (int r = 0; r < R; ++r, at += line_bytes) {
              for (int c = 0; c < C; ++c)
                for (int j = 0; j < n; ++j) {
                  const std::int64_t ci = (kb * R + r) * n + j, co = nb * C + c;
                  line[static_cast<std::size_t>(c * n + j)] =
                      ci < c_in && co < c_out ? L.weight.data[static_cast<std::size_t>(((co * c_in + ci) * k + ky) * k + kx)] : 0;
                }
              packing::write_lanes(dram_.data() + at, line.data(), lanes, p.weight_lane_bits);
            }
  }

  Module& m_;
  const AcceleratorConfig& cfg_;
  std::vector<std::uint8_t>& dram_;
};

}  // namespace

void layout(Module& m) { Layout(m).run(); }

}  // namespace faq::compiler
