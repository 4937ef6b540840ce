// The safetensors container (8-byte little-endian header length, JSON header, raw data), checked before
// use: header length bounded by the file and kMaxHeaderBytes, a JSON object, known dtypes, shapes whose byte
// size (overflow-checked against the data size, so nothing is allocated from a declared size) equals the
// offsets, offsets inside the data section, tensors contiguous, non-overlapping and covering it exactly.
// The .faq reader builds on it; the golden trainer reads pretrained weights with it.
#pragma once

#include <nlohmann/json.hpp>

#include <cstdint>
#include <map>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace faq {

inline constexpr std::uint64_t kMaxHeaderBytes = 100ULL << 20;  // the safetensors reference limit

struct SafetensorsTensor {
  std::string dtype;                   // "F32", "I8", ...
  int element_bytes = 0;
  std::vector<std::int64_t> shape;
  std::uint64_t begin = 0, end = 0;    // offsets in the data section
  std::span<const std::uint8_t> bytes; // the tensor's data
};

struct SafetensorsView {
  nlohmann::json metadata = nlohmann::json::object();  // __metadata__ (string values), empty if absent
  std::map<std::string, SafetensorsTensor> tensors;
  std::span<const std::uint8_t> data;                  // the data section
};

// Throws InputError "origin: problem". `bytes` must outlive the view.
SafetensorsView parse_safetensors(std::span<const std::uint8_t> bytes, std::string_view origin);

// Size in bytes of a safetensors dtype, or 0 when the name is not a dtype.
int safetensors_dtype_bytes(std::string_view dtype);

std::vector<std::uint8_t> read_file_bytes(const std::string& path);

// One tensor to write: its name, dtype, shape and little-endian bytes.
struct SafetensorsEntry {
  std::string name;
  std::string dtype;
  std::vector<std::int64_t> shape;
  std::vector<std::uint8_t> bytes;
};

// A safetensors file of `tensors`, their data in this order, with `metadata` as __metadata__ (left out when it is
// empty); the header is padded with spaces so that the data section starts 8-byte aligned.
std::vector<std::uint8_t> serialize_safetensors(const std::vector<SafetensorsEntry>& tensors, const nlohmann::json& metadata);

}  // namespace faq
