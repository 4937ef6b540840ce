// The instruction table: every opcode encodes and decodes losslessly (random and extreme field values), the
// text form round-trips, and malformed words and lines are rejected.
#include "faq/error.h"
#include "faq/isa.h"

#include <gtest/gtest.h>

#include <random>
#include <set>

namespace faq::isa {
namespace {

TEST(Isa, TableIsWellFormed) {
  std::set<int> opcodes;
  std::set<std::string_view> mnemonics;
  for (const auto& spec : kOpcodeSpecs) {
    EXPECT_TRUE(opcodes.insert(static_cast<int>(spec.opcode)).second) << spec.mnemonic;
    EXPECT_TRUE(mnemonics.insert(spec.mnemonic).second) << spec.mnemonic;
    EXPECT_LT(static_cast<int>(spec.opcode), 1 << kOpcodeBits);
    EXPECT_LE(spec.used_bits(), kInstructionBits) << spec.mnemonic;
    int lsb = kOpcodeBits;
    std::set<std::string_view> names;
    for (const auto& field : spec.field_list()) {
      EXPECT_EQ(field.lsb, lsb) << spec.mnemonic << "." << field.name;
      EXPECT_GT(field.width, 0);
      EXPECT_LE(field.width, 64);
      EXPECT_TRUE(names.insert(field.name).second) << spec.mnemonic << "." << field.name;
      lsb += field.width;
    }
  }
  EXPECT_EQ(spec_of(Opcode::Load).fields[Load::dram_addr].name, "dram_addr");
  EXPECT_EQ(spec_of(Opcode::Matmul).fields[Matmul::accumulate].name, "accumulate");
  EXPECT_EQ(spec_of(Opcode::Pool).field_count, Pool::kFieldCount);
}

Instruction random_instruction(const OpcodeSpec& spec, std::mt19937_64& rng) {
  Instruction instruction(spec.opcode);
  for (int i = 0; i < spec.field_count; ++i) instruction[i] = rng() & spec.fields[static_cast<std::size_t>(i)].max();
  return instruction;
}

TEST(Isa, EncodeDecodeRoundTripEveryOpcode) {
  std::mt19937_64 rng(11);
  for (const auto& spec : kOpcodeSpecs) {
    for (int trial = 0; trial < 1000; ++trial) {
      const Instruction instruction = random_instruction(spec, rng);
      ASSERT_EQ(decode(encode(instruction)), instruction) << to_asm(instruction);
    }
    Instruction all_ones(spec.opcode), zeros(spec.opcode);
    for (int i = 0; i < spec.field_count; ++i) all_ones[i] = spec.fields[static_cast<std::size_t>(i)].max();
    EXPECT_EQ(decode(encode(all_ones)), all_ones);
    EXPECT_EQ(decode(encode(zeros)), zeros);
    // Fields do not bleed into each other: setting one field to all ones leaves the others zero.
    for (int i = 0; i < spec.field_count; ++i) {
      Instruction one(spec.opcode);
      one[i] = spec.fields[static_cast<std::size_t>(i)].max();
      EXPECT_EQ(decode(encode(one)), one) << spec.mnemonic << " field " << i;
    }
  }
}

TEST(Isa, EncodingIsLittleEndianWithOpcodeInLowBits) {
  Instruction halt(Opcode::Halt);
  const Word word = encode(halt);
  EXPECT_EQ(word[0], 63);
  for (std::size_t i = 1; i < word.size(); ++i) EXPECT_EQ(word[i], 0);
  Instruction preload(Opcode::Preload);
  preload[Preload::wbuf_addr] = 0xABCD;
  preload[Preload::bank] = 1;
  const Word w = encode(preload);
  // opcode 3 in bits [5:0], wbuf_addr in [21:6], bank in bit 22.
  EXPECT_EQ(w[0], static_cast<std::uint8_t>(3 | ((0xABCD & 0x3) << 6)));
  EXPECT_EQ(w[1], static_cast<std::uint8_t>((0xABCD >> 2) & 0xFF));
  EXPECT_EQ(w[2], static_cast<std::uint8_t>(((0xABCD >> 10) & 0x3F) | (1 << 6)));
}

TEST(Isa, RejectsOverflowUnknownOpcodeAndReservedBits) {
  Instruction load(Opcode::Load);
  load[Load::buffer] = 4;  // 2-bit field
  EXPECT_THROW(encode(load), InputError);
  Word word{};
  word[0] = 0;  // opcode 0 is not assigned
  EXPECT_THROW(decode(word), InputError);
  Word halt = encode(Instruction(Opcode::Halt));
  halt[15] = 0x80;  // a reserved bit
  EXPECT_THROW(decode(halt), InputError);
}

TEST(Isa, AsmRoundTripAndErrors) {
  std::mt19937_64 rng(5);
  for (const auto& spec : kOpcodeSpecs) {
    for (int trial = 0; trial < 100; ++trial) {
      const Instruction instruction = random_instruction(spec, rng);
      ASSERT_EQ(parse_asm(to_asm(instruction)), instruction) << to_asm(instruction);
    }
  }
  EXPECT_THROW(parse_asm("FROB x=1"), InputError);
  EXPECT_THROW(parse_asm("PRELOAD wbuf_addr=1"), InputError);              // bank missing
  EXPECT_THROW(parse_asm("PRELOAD wbuf_addr=1 bank=2"), InputError);       // too wide
  EXPECT_THROW(parse_asm("PRELOAD wbuf_addr=1 bank=0 nope=3"), InputError);
  EXPECT_THROW(parse_asm("PRELOAD wbuf_addr=x bank=0"), InputError);
  EXPECT_THROW(parse_asm("PRELOAD wbuf_addr=1 bank=0 bank=1"), InputError);
  EXPECT_EQ(parse_asm("HALT"), Instruction(Opcode::Halt));
}

TEST(Isa, SignatureNamesEveryField) {
  const std::string sig = signature();
  for (const auto& spec : kOpcodeSpecs) {
    EXPECT_NE(sig.find(spec.mnemonic), std::string::npos);
    for (const auto& field : spec.field_list()) EXPECT_NE(sig.find(field.name), std::string::npos);
  }
  EXPECT_NE(signature_hash(), 0u);
}

}  // namespace
}  // namespace faq::isa
