#pragma once
// A place in a text file, as every message about a config or rules file names it.

#include <fmt/format.h>

#include <cstdint>
#include <string>

namespace cmdgate {

struct SourceLocation {
  std::string file;
  uint32_t line = 0;
  uint32_t column = 0;
};

// "<file>:<line>:<column>"
[[nodiscard]] inline std::string format_location(const SourceLocation& where) {
  return fmt::format("{}:{}:{}", where.file, where.line, where.column);
}

}  // namespace cmdgate
