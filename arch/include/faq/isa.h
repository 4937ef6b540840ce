// The instruction set of the FAQ accelerator: the one table from which the compiler's encoder, the
// instruction-level simulator's decoder and the RTL decoder generator are derived. Nothing else restates
// opcodes, field names, widths or bit positions.
//
// Every instruction is 128 bits. Bits [5:0] hold the opcode; each opcode's fields follow from bit 6 upward
// in the order listed below, each `width` bits wide, unsigned; bits above the last field are reserved and
// must be zero. Semantics: docs/isa.md.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>

namespace faq::isa {

inline constexpr int kVersion = 1;
inline constexpr int kInstructionBits = 128;
inline constexpr int kInstructionBytes = kInstructionBits / 8;
inline constexpr int kOpcodeBits = 6;

// X-macro table: OP(Name, mnemonic, opcode value, fields) with fields as F(name, width).
#define FAQ_ISA_CONFIG_FIELDS(F) \
  F(in_bits, 5) F(in_signed, 1) F(weight_bits, 5) F(out_bits, 5) F(out_signed, 1) F(res_bits, 5) \
  F(res_signed, 1) F(in_pixel_stride, 20) F(out_pixel_stride, 20) F(out_range_bits, 5)
#define FAQ_ISA_LOAD_FIELDS(F) \
  F(buffer, 2) F(dram_addr, 32) F(sram_addr, 16) F(count_y, 10) F(count_x, 10) F(dram_stride_y, 24) \
  F(sram_stride_y, 12) F(pad_top, 4) F(pad_bottom, 4) F(pad_left, 4) F(pad_right, 4)
#define FAQ_ISA_PRELOAD_FIELDS(F) F(wbuf_addr, 16) F(bank, 1)
#define FAQ_ISA_MATMUL_FIELDS(F) \
  F(bank, 1) F(spad_addr, 16) F(spad_stride_y, 12) F(spad_stride_x, 4) F(acc_addr, 16) F(acc_stride_y, 12) \
  F(count_y, 10) F(count_x, 10) F(accumulate, 1)
#define FAQ_ISA_STORE_FIELDS(F) \
  F(acc_addr, 16) F(acc_stride_y, 12) F(count_y, 10) F(count_x, 10) F(param_addr, 12) F(dram_addr, 32) \
  F(dram_stride_y, 24)
#define FAQ_ISA_VADD_FIELDS(F) F(a_addr, 32) F(b_addr, 32) F(out_addr, 32) F(count, 16) F(param_addr, 10)
#define FAQ_ISA_POOL_FIELDS(F) \
  F(src_addr, 32) F(dst_addr, 32) F(in_h, 9) F(in_w, 9) F(out_h, 9) F(out_w, 9) F(kernel, 4) F(stride, 3) \
  F(pad, 2) F(average, 1) F(param_addr, 12)
#define FAQ_ISA_HALT_FIELDS(F)

#define FAQ_ISA_OPCODES(OP)                                                                                 \
  OP(Config, "CONFIG", 1, FAQ_ISA_CONFIG_FIELDS, "set precisions and DRAM pixel strides of the layer")       \
  OP(Load, "LOAD", 2, FAQ_ISA_LOAD_FIELDS, "copy a 2-D block of lines from DRAM into a buffer, zero-padded") \
  OP(Preload, "PRELOAD", 3, FAQ_ISA_PRELOAD_FIELDS, "load a rows x cols weight tile into an array bank")     \
  OP(Matmul, "MATMUL", 4, FAQ_ISA_MATMUL_FIELDS, "stream activation lines through the array into ACC")     \
  OP(Store, "STORE", 5, FAQ_ISA_STORE_FIELDS, "bias, requantize, clamp ACC lines and write them to DRAM")   \
  OP(Vadd, "VADD", 6, FAQ_ISA_VADD_FIELDS, "residual addition of two DRAM tensors, requantized")           \
  OP(Pool, "POOL", 7, FAQ_ISA_POOL_FIELDS, "max or average pooling of one channel block in DRAM")          \
  OP(Halt, "HALT", 63, FAQ_ISA_HALT_FIELDS, "end of program")

enum class Opcode : std::uint8_t {
#define FAQ_ENUM_OP(Name, mnemonic, value, FIELDS, summary) Name = value,
  FAQ_ISA_OPCODES(FAQ_ENUM_OP)
#undef FAQ_ENUM_OP
};

// Field indices per opcode, e.g. isa::Load::dram_addr.
#define FAQ_FIELD_ENUM(name, width) name,
#define FAQ_FIELD_STRUCT(Name, mnemonic, value, FIELDS, summary) \
  struct Name {                                                 \
    enum Field : std::uint8_t { FIELDS(FAQ_FIELD_ENUM) kFieldCount }; \
  };
FAQ_ISA_OPCODES(FAQ_FIELD_STRUCT)
#undef FAQ_FIELD_STRUCT
#undef FAQ_FIELD_ENUM

// Buffers addressed by LOAD.buffer.
enum class Buffer : std::uint8_t { Spad = 0, Wbuf = 1, Acc = 2, Param = 3 };

struct FieldSpec {
  std::string_view name;
  int lsb;
  int width;
  constexpr std::uint64_t max() const { return width == 64 ? ~0ULL : (1ULL << width) - 1; }
};

inline constexpr int kMaxFields = 12;

struct OpcodeSpec {
  Opcode opcode;
  std::string_view mnemonic;
  std::string_view summary;
  int field_count;
  std::array<FieldSpec, kMaxFields> fields;
  constexpr std::span<const FieldSpec> field_list() const { return {fields.data(), static_cast<std::size_t>(field_count)}; }
  constexpr int used_bits() const {
    if (field_count == 0) return kOpcodeBits;
    const FieldSpec& last = fields[static_cast<std::size_t>(field_count - 1)];
    return last.lsb + last.width;
  }
};

namespace detail {
template <std::size_t N>
constexpr OpcodeSpec make_spec(Opcode op, std::string_view mnemonic, std::string_view summary,
                               const std::array<std::pair<std::string_view, int>, N>& fields) {
  // The last element is an empty sentinel, so that an opcode without fields still forms an array.
  OpcodeSpec spec{op, mnemonic, summary, static_cast<int>(N - 1), {}};
  int lsb = kOpcodeBits;
  for (std::size_t i = 0; i + 1 < N; ++i) {
    spec.fields[i] = FieldSpec{fields[i].first, lsb, fields[i].second};
    lsb += fields[i].second;
  }
  return spec;
}
}  // namespace detail

#define FAQ_FIELD_PAIR(name, width) std::pair<std::string_view, int>{#name, width},
#define FAQ_SPEC(Name, mnemonic, value, FIELDS, summary)                                                     \
  detail::make_spec(Opcode::Name, mnemonic, summary,                                                        \
                    std::to_array<std::pair<std::string_view, int>>({FIELDS(FAQ_FIELD_PAIR){"", 0}})),
inline constexpr auto kOpcodeSpecs = std::to_array<OpcodeSpec>({FAQ_ISA_OPCODES(FAQ_SPEC)});
#undef FAQ_SPEC
#undef FAQ_FIELD_PAIR

static_assert([] {
  for (const auto& spec : kOpcodeSpecs)
    if (spec.used_bits() > kInstructionBits || spec.field_count > kMaxFields) return false;
  return true;
}(), "every instruction must fit 128 bits");

// The spec of an opcode value, or nullptr when the value is not an opcode.
const OpcodeSpec* find_spec(std::uint8_t opcode_value);
const OpcodeSpec& spec_of(Opcode opcode);
const OpcodeSpec* find_spec(std::string_view mnemonic);

// A decoded instruction: the opcode and the value of each of its fields, in table order.
struct Instruction {
  Opcode opcode = Opcode::Halt;
  std::array<std::uint64_t, kMaxFields> fields{};

  Instruction() = default;
  explicit Instruction(Opcode op) : opcode(op) {}
  std::uint64_t operator[](int field) const { return fields[static_cast<std::size_t>(field)]; }
  std::uint64_t& operator[](int field) { return fields[static_cast<std::size_t>(field)]; }
  bool operator==(const Instruction&) const = default;
};

using Word = std::array<std::uint8_t, kInstructionBytes>;  // little-endian: byte 0 holds bits [7:0]

// Throws InputError when a field value does not fit its width (naming the mnemonic and field).
Word encode(const Instruction& instruction);
// Throws InputError on an unknown opcode or non-zero reserved bits.
Instruction decode(const Word& word);

// Text form, one instruction per line: "LOAD buffer=0 dram_addr=0x100 ..."; every field is printed, so
// parse_asm(to_asm(i)) == i. parse_asm throws InputError naming the problem.
std::string to_asm(const Instruction& instruction);
Instruction parse_asm(std::string_view line);

// The table as markdown (one section per opcode with each field's bits), as docs/isa.md embeds it.
std::string markdown_table();

// Canonical text of the whole table (version, opcodes, fields, widths); its hash is part of every config hash.
std::string signature();
std::uint64_t signature_hash();

}  // namespace faq::isa
