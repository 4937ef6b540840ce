// Corrupted variants of a valid .faq file, one per rejection rule of the reader (docs/faq-format.md), plus
// truncations and byte flips spread over the whole file. Used by the reader's unit tests, by the faqc CLI
// test (written to disk) and as the fuzzer's seed corpus.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace faq::testing {

struct Corruption {
  std::string name;                 // file-name safe
  std::vector<std::uint8_t> bytes;  // the corrupted file
  std::string expect;               // a substring the error message must contain ("" = any InputError)
};

// `good` must be a serialized sample model (make_sample_model) with at least one test vector.
std::vector<Corruption> make_corruptions(const std::vector<std::uint8_t>& good);

}  // namespace faq::testing
