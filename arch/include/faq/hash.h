// FNV-1a, 64 bit: the project's stable content hash (configurations, ISA signature). Stable across platforms
// and compilers because it is defined on bytes, not on std::hash.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace faq {

constexpr std::uint64_t fnv1a64(std::string_view bytes, std::uint64_t hash = 0xcbf29ce484222325ULL) {
  for (char c : bytes) {
    hash ^= static_cast<std::uint8_t>(c);
    hash *= 0x100000001b3ULL;
  }
  return hash;
}

// 16 lowercase hex digits.
std::string hash_hex(std::uint64_t hash);

}  // namespace faq
