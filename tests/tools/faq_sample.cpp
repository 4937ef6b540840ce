// faq-sample: writes the synthetic sample model (tests/support/sample_model.h) and, with --corrupt-dir, one
// corrupted copy per reader rule. Used by the CLI tests and the fuzzer's seed corpus.
//   faq-sample OUT.faq [--wbits N] [--abits N] [--seed N] [--tests N] [--size N] [--corrupt-dir DIR]
#include "corruptions.h"
#include "sample_model.h"

#include "faq/error.h"
#include "faq/faq_file.h"

#include <fmt/format.h>

#include <charconv>
#include <filesystem>
#include <fstream>
#include <string_view>

namespace {

int parse_int(std::string_view flag, std::string_view text) {
  int value = 0;
  const auto [ptr, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc() || ptr != text.data() + text.size()) faq::fail_input("{}: '{}' is not an integer", flag, text);
  return value;
}

}  // namespace

int main(int argc, char** argv) {
  try {
    faq::testing::SampleOptions options;
    std::string output, corrupt_dir;
    for (int i = 1; i < argc; ++i) {
      const std::string_view arg = argv[i];
      auto value = [&]() -> std::string_view {
        if (i + 1 >= argc) faq::fail_input("{} needs a value", arg);
        return argv[++i];
      };
      if (arg == "--wbits") options.weight_bits = parse_int(arg, value());
      else if (arg == "--abits") options.act_bits = parse_int(arg, value());
      else if (arg == "--seed") options.seed = static_cast<std::uint64_t>(parse_int(arg, value()));
      else if (arg == "--tests") options.test_vectors = parse_int(arg, value());
      else if (arg == "--size") options.size = parse_int(arg, value());
      else if (arg == "--corrupt-dir") corrupt_dir = value();
      else if (!arg.starts_with("--") && output.empty()) output = arg;
      else faq::fail_input("unknown argument '{}' (usage: faq-sample OUT.faq [--wbits N] [--abits N] [--seed N] [--tests N] [--size N] [--corrupt-dir DIR])", arg);
    }
    if (output.empty()) faq::fail_input("usage: faq-sample OUT.faq [options]");
    const faq::Model model = faq::testing::make_sample_model(options);
    faq::write_faq(model, output);
    if (!corrupt_dir.empty()) {
      std::filesystem::create_directories(corrupt_dir);
      const auto corruptions = faq::testing::make_corruptions(faq::serialize_faq(model));
      for (const auto& c : corruptions) {
        std::ofstream out(std::filesystem::path(corrupt_dir) / (c.name + ".faq"), std::ios::binary);
        out.write(reinterpret_cast<const char*>(c.bytes.data()), static_cast<std::streamsize>(c.bytes.size()));
      }
      fmt::print("wrote {} and {} corrupted copies in {}\n", output, corruptions.size(), corrupt_dir);
    }
    return 0;
  } catch (const faq::InputError& e) {
    fmt::print(stderr, "faq-sample: {}\n", e.what());
    return faq::kExitBadInput;
  } catch (const std::exception& e) {
    fmt::print(stderr, "faq-sample: internal error: {}\n", e.what());
    return faq::kExitInternal;
  }
}
