// libFuzzer entry point: any byte string given to the .faq reader either parses into a valid model or is
// rejected with an InputError; anything else (a crash, a sanitizer report, another exception) is a bug.
#include "faq/error.h"
#include "faq/faq_file.h"

#include <cstddef>
#include <cstdint>
#include <span>

// Each input is read twice: as tools read it, and with the checksum check off, so that mutations reach the
// graph, parameter and test-vector checks behind it instead of all stopping at the checksum.
extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::span<const std::uint8_t> bytes(data, size);
  for (bool verify : {true, false}) {
    try {
      const faq::Model model = faq::parse_faq(bytes, "fuzz.faq", {.verify_checksum = verify});
      // A model that parses must serialize and parse back.
      (void)faq::parse_faq(faq::serialize_faq(model), "reserialized.faq");
    } catch (const faq::InputError&) {
    }
  }
  return 0;
}
