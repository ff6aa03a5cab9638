#include "context/hash_result.h"

#include <fmt/format.h>
#include <sys/sysmacros.h>

#include <array>

namespace cmdgate {

namespace {
constexpr std::array<std::string_view, 5> kOutcomeNames{"ok", "too_large", "timed_out",
                                                        "unreadable", "busy"};
}  // namespace

std::string_view to_string(HashOutcome outcome) {
  return kOutcomeNames.at(static_cast<size_t>(outcome));
}

namespace hash_text {

std::string size(uint64_t bytes) {
  static constexpr std::array<std::string_view, 5> kUnits{"KiB", "MiB", "GiB", "TiB", "PiB"};
  if (bytes < 1024) {
    return fmt::format("{} bytes", bytes);
  }
  size_t unit = 0;
  uint64_t scale = 1024;
  while (unit + 1 < kUnits.size() && bytes / scale >= 1024) {
    scale *= 1024;
    ++unit;
  }
  if (bytes % scale == 0) {
    return fmt::format("{} {}", bytes / scale, kUnits[unit]);
  }
  return fmt::format("{:.1f} {}", static_cast<double>(bytes) / static_cast<double>(scale),
                     kUnits[unit]);
}

std::string time(std::chrono::milliseconds t) {
  if (t.count() % 1000 == 0) {
    return fmt::format("{} s", t.count() / 1000);
  }
  return fmt::format("{} ms", t.count());
}

std::string too_large(uint64_t file_size, uint64_t cap) {
  return fmt::format("sha256 unknown: file is {}, over the {} hashing cap", size(file_size),
                     size(cap));
}

std::string grew_past_cap(uint64_t cap) {
  return fmt::format("sha256 unknown: the file grew past the {} hashing cap as it was read",
                     size(cap));
}

std::string too_slow(std::chrono::milliseconds limit) {
  return fmt::format("sha256 unknown: hashing took longer than the {} limit", time(limit));
}

std::string queue_backed_up(std::chrono::milliseconds limit) {
  return fmt::format("sha256 unknown: not hashed within {}: the hashing queue is backed up",
                     time(limit));
}

std::string queue_full(size_t waiting) {
  return fmt::format("sha256 unknown: the hashing queue is full ({} files waiting)", waiting);
}

std::string stuck_device(uint64_t dev) {
  return fmt::format(
      "sha256 unknown: a read on this file's filesystem (device {}:{}) has not returned; no "
      "hashing there until it does",
      major(dev), minor(dev));
}

std::string stuck_cap(size_t stuck) {
  return fmt::format(
      "sha256 unknown: hashing is off until a stuck read returns ({} stuck, the cap)", stuck);
}

std::string changed() {
  return "sha256 unknown: the file changed while it was hashed";
}

std::string unreadable(std::string_view why) {
  return fmt::format("sha256 unknown: {}", why);
}

}  // namespace hash_text
}  // namespace cmdgate
