#include "faq/hash.h"

#include <fmt/format.h>

namespace faq {

std::string hash_hex(std::uint64_t hash) { return fmt::format("{:016x}", hash); }

}  // namespace faq
