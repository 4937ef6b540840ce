// The subcommands of faqc. Each adds itself to the CLI11 app and returns the function that runs it once the
// command line has been parsed.
#pragma once

#include <CLI/CLI.hpp>

#include <functional>

namespace faq::cli {

struct Subcommand {
  CLI::App* app;
  std::function<int()> run;
};

// faqc inspect FILE.faq [--json]: layers, shapes, precisions, parameter count and MACs.
Subcommand add_inspect(CLI::App& app);

// faqc isa: the instruction set table as markdown (docs/isa.md embeds it).
Subcommand add_isa(CLI::App& app);

}  // namespace faq::cli
