// Errors of the toolchain. Every error is one line a user can act on: where (file, layer, field), what is
// wrong, and the fix when known. InputError means the user's input is bad (exit code 2); anything else that
// escapes to main() is an internal failure (exit code 1).
#pragma once

#include <fmt/format.h>

#include <stdexcept>
#include <string>

namespace faq {

class InputError : public std::runtime_error {
 public:
  explicit InputError(const std::string& message) : std::runtime_error(message) {}
};

// Throws InputError with a fmt-formatted message.
template <typename... Args>
[[noreturn]] void fail_input(fmt::format_string<Args...> format, Args&&... args) {
  throw InputError(fmt::format(format, std::forward<Args>(args)...));
}

// Exit codes of every command-line tool of the project.
inline constexpr int kExitOk = 0;
inline constexpr int kExitInternal = 1;
inline constexpr int kExitBadInput = 2;

}  // namespace faq
