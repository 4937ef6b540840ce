// A constrained-random single-layer case (tests/support/random_model.h) compiled for a configuration: the model,
// its program, the DRAM image with the input placed, and the reference outputs (the input layer as stored). Shared
// by the RTL's random test and the gate-level check.
#pragma once

#include "passes.h"
#include "random_model.h"

#include "faq/error.h"
#include "faq/reference.h"

#include <optional>

namespace faq::testing {

struct RandomCase {
  Model model;
  compiler::Program program;
  std::vector<IntTensor> expected;
  std::vector<std::uint8_t> dram;
};

// nullopt when the compiler refuses the layer for `config` (its refusals are tested elsewhere).
inline std::optional<RandomCase> random_case(Rng& rng, const AcceleratorConfig& config) {
  RandomCase c;
  c.model = random_model(rng);
  try {
    c.program = compiler::compile(c.model, config);
  } catch (const InputError&) {
    return std::nullopt;
  }
  const IntTensor input = random_input(rng, c.model);
  c.expected = run_reference(c.model, input);
  c.expected[0] = compiler::stored_input(c.program, c.expected[0]);
  c.dram = c.program.dram;
  compiler::place_input(c.program, input, c.dram);
  return c;
}

}  // namespace faq::testing
