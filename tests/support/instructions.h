// Hand-written instructions for tests: an opcode and (field, value) pairs of the ISA table.
#pragma once

#include "faq/isa.h"

#include <initializer_list>
#include <utility>

namespace faq::testing {

inline isa::Instruction make(isa::Opcode op, std::initializer_list<std::pair<int, std::uint64_t>> fields) {
  isa::Instruction i(op);
  for (const auto& [f, v] : fields) i[f] = v;
  return i;
}

}  // namespace faq::testing
