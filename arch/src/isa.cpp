// Encoding, decoding and the text form of instructions, all driven by the table in isa.h. A field of width w
// at bit lsb occupies bits [lsb, lsb + w) of the 128-bit little-endian word; fields may straddle bytes.
#include "faq/isa.h"

#include "faq/error.h"
#include "faq/hash.h"

#include <fmt/format.h>

#include <charconv>

namespace faq::isa {

namespace {

std::uint64_t get_bits(const Word& word, int lsb, int width) {
  std::uint64_t value = 0;
  for (int i = 0; i < width; ++i) {
    const int bit = lsb + i;
    const auto byte = word[static_cast<std::size_t>(bit / 8)];
    value |= static_cast<std::uint64_t>((byte >> (bit % 8)) & 1u) << i;
  }
  return value;
}

void set_bits(Word& word, int lsb, int width, std::uint64_t value) {
  for (int i = 0; i < width; ++i) {
    const int bit = lsb + i;
    if ((value >> i) & 1u) word[static_cast<std::size_t>(bit / 8)] |= static_cast<std::uint8_t>(1u << (bit % 8));
  }
}

}  // namespace

const OpcodeSpec* find_spec(std::uint8_t opcode_value) {
  for (const auto& spec : kOpcodeSpecs)
    if (static_cast<std::uint8_t>(spec.opcode) == opcode_value) return &spec;
  return nullptr;
}

const OpcodeSpec& spec_of(Opcode opcode) { return *find_spec(static_cast<std::uint8_t>(opcode)); }

const OpcodeSpec* find_spec(std::string_view mnemonic) {
  for (const auto& spec : kOpcodeSpecs)
    if (spec.mnemonic == mnemonic) return &spec;
  return nullptr;
}

Word encode(const Instruction& instruction) {
  const OpcodeSpec& spec = spec_of(instruction.opcode);
  Word word{};
  set_bits(word, 0, kOpcodeBits, static_cast<std::uint64_t>(instruction.opcode));
  for (int i = 0; i < spec.field_count; ++i) {
    const FieldSpec& field = spec.fields[static_cast<std::size_t>(i)];
    const std::uint64_t value = instruction[i];
    if (value > field.max())
      fail_input("{}.{} = {} does not fit in {} bits (max {})", spec.mnemonic, field.name, value, field.width,
                 field.max());
    set_bits(word, field.lsb, field.width, value);
  }
  for (int i = spec.field_count; i < kMaxFields; ++i)
    if (instruction[i] != 0) fail_input("{} has only {} fields, but field {} is set", spec.mnemonic, spec.field_count, i);
  return word;
}

Instruction decode(const Word& word) {
  const auto value = static_cast<std::uint8_t>(get_bits(word, 0, kOpcodeBits));
  const OpcodeSpec* spec = find_spec(value);
  if (spec == nullptr) fail_input("unknown opcode {}", value);
  Instruction instruction(spec->opcode);
  for (int i = 0; i < spec->field_count; ++i) {
    const FieldSpec& field = spec->fields[static_cast<std::size_t>(i)];
    instruction[i] = get_bits(word, field.lsb, field.width);
  }
  for (int bit = spec->used_bits(); bit < kInstructionBits; ++bit)
    if (get_bits(word, bit, 1) != 0) fail_input("{}: reserved bit {} is set", spec->mnemonic, bit);
  return instruction;
}

std::string to_asm(const Instruction& instruction) {
  const OpcodeSpec& spec = spec_of(instruction.opcode);
  std::string text(spec.mnemonic);
  for (int i = 0; i < spec.field_count; ++i) {
    const FieldSpec& field = spec.fields[static_cast<std::size_t>(i)];
    const bool is_address = field.name.ends_with("addr");
    text += is_address ? fmt::format(" {}=0x{:x}", field.name, instruction[i]) : fmt::format(" {}={}", field.name, instruction[i]);
  }
  return text;
}

Instruction parse_asm(std::string_view line) {
  auto next_token = [&line]() {
    while (!line.empty() && (line.front() == ' ' || line.front() == '\t')) line.remove_prefix(1);
    std::size_t end = 0;
    while (end < line.size() && line[end] != ' ' && line[end] != '\t') ++end;
    std::string_view token = line.substr(0, end);
    line.remove_prefix(end);
    return token;
  };
  const std::string_view mnemonic = next_token();
  const OpcodeSpec* spec = find_spec(mnemonic);
  if (spec == nullptr) fail_input("unknown mnemonic '{}'", mnemonic);
  Instruction instruction(spec->opcode);
  std::array<bool, kMaxFields> seen{};
  for (std::string_view token = next_token(); !token.empty(); token = next_token()) {
    const auto eq = token.find('=');
    if (eq == std::string_view::npos) fail_input("{}: expected name=value, got '{}'", spec->mnemonic, token);
    const std::string_view name = token.substr(0, eq);
    std::string_view digits = token.substr(eq + 1);
    int base = 10;
    if (digits.starts_with("0x")) {
      digits.remove_prefix(2);
      base = 16;
    }
    int index = -1;
    for (int i = 0; i < spec->field_count; ++i)
      if (spec->fields[static_cast<std::size_t>(i)].name == name) index = i;
    if (index < 0) fail_input("{} has no field '{}'", spec->mnemonic, name);
    std::uint64_t value = 0;
    const auto [ptr, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), value, base);
    if (ec != std::errc() || ptr != digits.data() + digits.size() || digits.empty())
      fail_input("{}.{}: '{}' is not a number", spec->mnemonic, name, token.substr(eq + 1));
    if (value > spec->fields[static_cast<std::size_t>(index)].max())
      fail_input("{}.{} = {} does not fit in {} bits", spec->mnemonic, name, value,
                 spec->fields[static_cast<std::size_t>(index)].width);
    if (seen[static_cast<std::size_t>(index)]) fail_input("{}.{} is given twice", spec->mnemonic, name);
    seen[static_cast<std::size_t>(index)] = true;
    instruction[index] = value;
  }
  for (int i = 0; i < spec->field_count; ++i)
    if (!seen[static_cast<std::size_t>(i)])
      fail_input("{}: field '{}' is missing", spec->mnemonic, spec->fields[static_cast<std::size_t>(i)].name);
  return instruction;
}

std::string markdown_table() {
  std::string text = fmt::format("ISA version {}, {}-bit instructions, opcode in bits [{}:0].\n\n", kVersion,
                                 kInstructionBits, kOpcodeBits - 1);
  text += "| opcode | mnemonic | purpose | used bits |\n|---|---|---|---|\n";
  for (const auto& spec : kOpcodeSpecs)
    text += fmt::format("| {} | `{}` | {} | {} |\n", static_cast<int>(spec.opcode), spec.mnemonic, spec.summary,
                        spec.used_bits());
  for (const auto& spec : kOpcodeSpecs) {
    if (spec.field_count == 0) continue;
    text += fmt::format("\n**{}** (opcode {})\n\n| field | bits | width |\n|---|---|---|\n", spec.mnemonic,
                        static_cast<int>(spec.opcode));
    for (const auto& field : spec.field_list())
      text += fmt::format("| `{}` | [{}:{}] | {} |\n", field.name, field.lsb + field.width - 1, field.lsb, field.width);
  }
  return text;
}

std::string signature() {
  std::string text = fmt::format("faq-isa v{} {} bits;", kVersion, kInstructionBits);
  for (const auto& spec : kOpcodeSpecs) {
    text += fmt::format("{}={}:", spec.mnemonic, static_cast<int>(spec.opcode));
    for (const auto& field : spec.field_list()) text += fmt::format("{}@{}+{},", field.name, field.lsb, field.width);
    text += ';';
  }
  return text;
}

std::uint64_t signature_hash() {
  static const std::uint64_t hash = fnv1a64(signature());
  return hash;
}

}  // namespace faq::isa
