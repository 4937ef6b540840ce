// Input expansion, DRAM image access, and the program / DRAM files.
#include "program.h"

#include "faq/error.h"
#include "faq/packing.h"
#include "faq/safetensors.h"

#include <fmt/format.h>

#include <fstream>

namespace faq::compiler {

Shape InputExpansion::expanded() const {
  const std::int64_t oh = (image.h + 2 * pad - kernel) / stride + 1, ow = (image.w + 2 * pad - kernel) / stride + 1;
  return {image.c * kernel * kernel, oh, ow};
}

IntTensor stored_input(const Program& program, const IntTensor& image) {
  const InputExpansion& e = program.input;
  if (!e.active) return image;
  const Shape out = e.expanded();
  const std::int64_t c = e.image.c, k = e.kernel;
  IntTensor x{{out.c, out.h, out.w}, std::vector<std::int32_t>(static_cast<std::size_t>(out.numel()), 0)};
  for (std::int64_t ci = 0; ci < c; ++ci)
    for (std::int64_t ky = 0; ky < k; ++ky)
      for (std::int64_t kx = 0; kx < k; ++kx) {
        const std::int64_t channel = (ky * k + kx) * c + ci;
        for (std::int64_t oy = 0; oy < out.h; ++oy) {
          const std::int64_t iy = oy * e.stride - e.pad + ky;
          if (iy < 0 || iy >= e.image.h) continue;
          for (std::int64_t ox = 0; ox < out.w; ++ox) {
            const std::int64_t ix = ox * e.stride - e.pad + kx;
            if (ix < 0 || ix >= e.image.w) continue;
            x.data[static_cast<std::size_t>((channel * out.h + oy) * out.w + ox)] =
                image.data[static_cast<std::size_t>((ci * e.image.h + iy) * e.image.w + ix)];
          }
        }
      }
  return x;
}

void place_input(const Program& program, const IntTensor& image, std::vector<std::uint8_t>& dram) {
  const IntTensor input = stored_input(program, image);
  const TensorPlacement& t = program.tensors[0];
  const Shape& s = t.shape;
  std::vector<std::int64_t> pixel(static_cast<std::size_t>(t.c_pad), 0);
  for (std::int64_t y = 0; y < s.h; ++y)
    for (std::int64_t x = 0; x < s.w; ++x) {
      for (std::int64_t c = 0; c < s.c; ++c) pixel[static_cast<std::size_t>(c)] = input.data[static_cast<std::size_t>((c * s.h + y) * s.w + x)];
      packing::write_lanes(dram.data() + t.address + static_cast<std::uint64_t>(y * s.w + x) * t.pixel_stride(), pixel.data(),
                           static_cast<int>(t.c_pad), t.lane_bits);
    }
}

IntTensor read_tensor(const Program& program, std::size_t layer, const std::vector<std::uint8_t>& dram) {
  const TensorPlacement& t = program.tensors[layer];
  const Shape& s = t.shape;
  IntTensor out{{s.c, s.h, s.w}, std::vector<std::int32_t>(static_cast<std::size_t>(s.numel()))};
  std::vector<std::int64_t> pixel(static_cast<std::size_t>(t.c_pad));
  for (std::int64_t y = 0; y < s.h; ++y)
    for (std::int64_t x = 0; x < s.w; ++x) {
      packing::read_lanes(dram.data() + t.address + static_cast<std::uint64_t>(y * s.w + x) * t.pixel_stride(), pixel.data(),
                          static_cast<int>(t.c_pad), t.lane_bits, t.is_signed);
      for (std::int64_t c = 0; c < s.c; ++c)
        out.data[static_cast<std::size_t>((c * s.h + y) * s.w + x)] = static_cast<std::int32_t>(pixel[static_cast<std::size_t>(c)]);
    }
  return out;
}

namespace {

void put(std::vector<std::uint8_t>& bytes, std::uint64_t v, int n) {
  for (int i = 0; i < n; ++i) bytes.push_back(static_cast<std::uint8_t>(v >> (8 * i)));
}

std::uint64_t get(const std::vector<std::uint8_t>& bytes, std::size_t at, int n) {
  std::uint64_t v = 0;
  for (int i = 0; i < n; ++i) v |= std::uint64_t{bytes[at + static_cast<std::size_t>(i)]} << (8 * i);
  return v;
}

void write_bytes(const std::string& path, const std::vector<std::uint8_t>& bytes) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out.write(reinterpret_cast<const char*>(bytes.data()), static_cast<std::streamsize>(bytes.size()));
  if (!out) fail_input("{}: cannot write", path);
}

// Checks magic and configuration hash of a program or DRAM file; returns the bytes.
std::vector<std::uint8_t> read_checked(const std::string& path, std::string_view magic, std::size_t header,
                                       const AcceleratorConfig& config, std::size_t hash_at) {
  std::vector<std::uint8_t> bytes = read_file_bytes(path);
  if (bytes.size() < header || std::string_view(reinterpret_cast<const char*>(bytes.data()), 4) != magic)
    fail_input("{}: not a {} file (no '{}' header)", path, magic == "FAQP" ? "program" : "DRAM image", magic);
  const std::uint64_t hash = get(bytes, hash_at, 8);
  if (hash != config.hash())
    fail_input("{}: built for configuration hash {:016x}, not for '{}' (hash {:016x}); compile again with --config {}", path, hash,
               config.name, config.hash(), config.name);
  return bytes;
}

}  // namespace

void write_program(const std::string& path, const Program& program) {
  std::vector<std::uint8_t> bytes = {'F', 'A', 'Q', 'P'};
  put(bytes, static_cast<std::uint64_t>(isa::kVersion), 4);
  put(bytes, program.config_hash, 8);
  put(bytes, program.code.size(), 8);
  for (const auto& i : program.code) {
    const auto word = isa::encode(i);
    bytes.insert(bytes.end(), word.begin(), word.end());
  }
  write_bytes(path, bytes);
}

void write_dram(const std::string& path, const Program& program) {
  std::vector<std::uint8_t> bytes = {'F', 'A', 'Q', 'D'};
  put(bytes, program.config_hash, 8);
  put(bytes, program.dram.size(), 8);
  bytes.insert(bytes.end(), program.dram.begin(), program.dram.end());
  write_bytes(path, bytes);
}

std::vector<isa::Instruction> read_program(const std::string& path, const AcceleratorConfig& config) {
  constexpr std::size_t kHeader = 24;
  const auto bytes = read_checked(path, "FAQP", kHeader, config, 8);
  const auto version = get(bytes, 4, 4);
  if (version != static_cast<std::uint64_t>(isa::kVersion)) fail_input("{}: ISA version {}, this build runs version {}", path, version, isa::kVersion);
  const std::uint64_t count = get(bytes, 16, 8);
  const std::uint64_t word = sizeof(isa::Word);
  if (count > (bytes.size() - kHeader) / word || bytes.size() - kHeader != count * word)
    fail_input("{}: header says {} instructions, the file holds {} bytes of them", path, count, bytes.size() - kHeader);
  std::vector<isa::Instruction> code;
  code.reserve(count);
  for (std::uint64_t n = 0; n < count; ++n) {
    isa::Word w{};
    std::copy_n(bytes.begin() + static_cast<std::ptrdiff_t>(kHeader + n * word), word, w.begin());
    try {
      code.push_back(isa::decode(w));
    } catch (const InputError& e) {
      fail_input("{}: instruction {}: {}", path, n, e.what());
    }
  }
  if (code.empty() || code.back().opcode != isa::Opcode::Halt) fail_input("{}: the program does not end with HALT", path);
  return code;
}

std::vector<std::uint8_t> read_dram(const std::string& path, const AcceleratorConfig& config) {
  constexpr std::size_t kHeader = 20;
  auto bytes = read_checked(path, "FAQD", kHeader, config, 4);
  const std::uint64_t size = get(bytes, 12, 8);
  if (bytes.size() - kHeader != size) fail_input("{}: header says {} bytes, the file holds {}", path, size, bytes.size() - kHeader);
  bytes.erase(bytes.begin(), bytes.begin() + kHeader);
  return bytes;
}

void load_program_files(Program& program, const std::string& prefix, const AcceleratorConfig& config, const std::string& model) {
  program.code = read_program(prefix + ".prog", config);
  auto dram = read_dram(prefix + ".dram", config);
  if (dram.size() != program.dram.size())
    fail_input("{}.dram: {} bytes, but {} on {} needs {}: made from another model?", prefix, dram.size(), model, config.name,
               program.dram.size());
  program.dram = std::move(dram);
}

}  // namespace faq::compiler
