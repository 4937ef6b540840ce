// faqc: entry point. Registers the subcommands, parses the command line and maps errors to exit codes:
// 0 success, 2 bad input (one line on stderr), 1 internal failure.
#include "commands.h"

#include "faq/error.h"

#include <fmt/format.h>

#include <exception>
#include <vector>

int main(int argc, char** argv) {
  CLI::App app{"faqc: the FAQ toolchain (quantized models -> accelerator programs -> bit-exact simulation)", "faqc"};
  app.set_version_flag("--version", std::string("faqc ") + FAQ_VERSION);
  app.require_subcommand(1);
  const std::vector<faq::cli::Subcommand> subcommands = {faq::cli::add_inspect(app), faq::cli::add_compile(app),
                                                           faq::cli::add_run(app), faq::cli::add_isa(app)};
  try {
    app.parse(argc, argv);
  } catch (const CLI::Success& e) {
    return app.exit(e);  // --help, --version
  } catch (const CLI::ParseError& e) {
    fmt::print(stderr, "faqc: {} (see faqc --help)\n", e.what());
    return faq::kExitBadInput;
  }
  try {
    for (const auto& subcommand : subcommands)
      if (subcommand.app->parsed()) return subcommand.run();
    return faq::kExitBadInput;
  } catch (const faq::InputError& e) {
    fmt::print(stderr, "faqc: {}\n", e.what());
    return faq::kExitBadInput;
  } catch (const std::exception& e) {
    fmt::print(stderr, "faqc: internal error: {}\n", e.what());
    return faq::kExitInternal;
  }
}
