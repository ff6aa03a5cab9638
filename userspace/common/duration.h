#pragma once
// Durations as rules files, the daemon's config file and command-line flags write them: a decimal
// integer followed by a unit, "500ms", "30s", "2m", "1h".

#include <chrono>
#include <string_view>

#include "common/result.h"

namespace cmdgate {

inline constexpr std::chrono::milliseconds kMaxDuration{std::chrono::hours(24)};

// Digits then exactly one of the units ms, s, m, h (lower case); no sign, spaces, fractions or
// compound forms ("1h30m"). The value must be > 0 and <= kMaxDuration.
Result<std::chrono::milliseconds> parse_duration(std::string_view text);

}  // namespace cmdgate
