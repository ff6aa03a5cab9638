#include "common/duration.h"

#include <cstdint>

namespace cmdgate {

Result<std::chrono::milliseconds> parse_duration(std::string_view text) {
  constexpr std::string_view kExpected =
      "expected an integer followed by one of the units ms, s, m, h (e.g. \"30s\")";
  size_t digits = 0;
  while (digits < text.size() && text[digits] >= '0' && text[digits] <= '9') {
    ++digits;
  }
  const std::string_view unit = text.substr(digits);
  int64_t unit_ms = 0;
  if (unit == "ms") {
    unit_ms = 1;
  } else if (unit == "s") {
    unit_ms = 1000;
  } else if (unit == "m") {
    unit_ms = 60 * 1000;
  } else if (unit == "h") {
    unit_ms = 60 * 60 * 1000;
  }
  if (digits == 0 || unit_ms == 0) {
    return Error::format("invalid duration '{}': {}", text, kExpected);
  }
  // Accumulate with saturation: anything above the limit is rejected, however many digits.
  const int64_t limit = kMaxDuration.count();
  int64_t value = 0;
  for (size_t i = 0; i < digits; ++i) {
    value = value * 10 + (text[i] - '0');
    if (value * unit_ms > limit) {
      return Error::format("duration '{}' is longer than the maximum of 24h", text);
    }
  }
  if (value == 0) {
    return Error::format("duration '{}' must be greater than zero", text);
  }
  return std::chrono::milliseconds(value * unit_ms);
}

}  // namespace cmdgate
