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

// faqc compile MODEL.faq [--config NAME|FILE] [-o PREFIX] [--emit asm]; faqc run MODEL.faq [--config ...].
Subcommand add_compile(CLI::App& app);
Subcommand add_run(CLI::App& app);

// faqc isa: the instruction set table as markdown (docs/isa.md embeds it).
Subcommand add_isa(CLI::App& app);

}  // namespace faq::cli
