#pragma once
// A place in a text file, as every message about a config or rules file names it.

#include <fmt/format.h>

#include <cstdint>
#include <memory>
#include <string>

namespace cmdgate {

struct SourceLocation {
  // Shared by every place in the same file: a policy keeps the place of each of its rules.
  std::shared_ptr<const std::string> file;
  uint32_t line = 0;
  uint32_t column = 0;

  [[nodiscard]] const std::string& file_name() const {
    static const std::string kNone;
    return file ? *file : kNone;
  }
};

// "<file>:<line>:<column>"
[[nodiscard]] inline std::string format_location(const SourceLocation& where) {
  return fmt::format("{}:{}:{}", where.file_name(), where.line, where.column);
}

}  // namespace cmdgate
