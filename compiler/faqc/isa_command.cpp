// faqc isa: prints the instruction-set table (the one in arch/include/faq/isa.h) as markdown, as embedded in
// docs/isa.md; a test keeps the two equal.
#include "commands.h"

#include "faq/isa.h"

#include <fmt/format.h>

namespace faq::cli {

Subcommand add_isa(CLI::App& app) {
  CLI::App* sub = app.add_subcommand("isa", "Print the instruction set table as markdown");
  return {sub, [] {
            fmt::print("{}", isa::markdown_table());
            return 0;
          }};
}

}  // namespace faq::cli
