// Reading and writing .faq files: safetensors containers (8-byte little-endian header length, JSON header,
// raw little-endian tensor data) whose metadata holds the layer graph. The reader checks everything before
// it uses anything; every failure is an InputError of one line naming the file, the tensor or layer, and
// the problem. Format: docs/faq-format.md.
#pragma once

#include "faq/model.h"

#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace faq {

inline constexpr int kFaqFormatVersion = 1;

struct ReadOptions {
  // The fuzzer turns this off to reach the checks that lie behind the checksum; every tool keeps it on.
  bool verify_checksum = true;
};

Model read_faq(const std::string& path);
// `origin` is the name used in error messages (the file path).
Model parse_faq(std::span<const std::uint8_t> bytes, std::string_view origin, ReadOptions options = {});

std::vector<std::uint8_t> serialize_faq(const Model& model);
// Writes to path + ".tmp" and renames, so an interrupted write never leaves a truncated file behind.
void write_faq(const Model& model, const std::string& path);

// The "checksum" metadata value: FNV-1a 64 of the graph JSON text followed by the data section, 16 hex digits.
std::string content_checksum(std::string_view graph_text, std::span<const std::uint8_t> data);

// Safetensors dtype name used for a tensor of `bits` and signedness: I8/U8 up to 8 bits, I16/U16 up to 16.
std::string_view storage_dtype(int bits, bool is_signed);

}  // namespace faq
