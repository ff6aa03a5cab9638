#pragma once
// What HashService answers for a file, and the texts the decision log shows for it: one place
// for all of them.

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "rules/model.h"
#include "trust/md5.h"

namespace cmdgate {

// What one read of a file gives: its SHA-256 (rules' sha256) and, when asked for, its MD5 (the
// digest dpkg records, for trust = "package"; only policies with such a rule pay for it).
struct FileDigests {
  rules::Sha256 sha256{};
  std::optional<trust::Md5> md5;
  friend bool operator==(const FileDigests&, const FileDigests&) = default;
};
enum class Digests : uint8_t { kSha256, kSha256AndMd5 };

enum class HashOutcome : uint8_t { kOk, kTooLarge, kTimedOut, kUnreadable, kBusy };
[[nodiscard]] std::string_view to_string(HashOutcome outcome);

struct HashResult {
  uint64_t token = 0;
  HashOutcome outcome = HashOutcome::kOk;
  FileDigests digest{};    // kOk only
  std::string message;     // for the decision log ("sha256 unknown: ..."); empty for kOk

  [[nodiscard]] bool ok() const { return outcome == HashOutcome::kOk; }
};

namespace hash_text {

// "1 GiB", "1.5 TiB", "200 bytes"; "10 s", "200 ms".
[[nodiscard]] std::string size(uint64_t bytes);
[[nodiscard]] std::string time(std::chrono::milliseconds t);

[[nodiscard]] std::string too_large(uint64_t size, uint64_t cap);
[[nodiscard]] std::string grew_past_cap(uint64_t cap);
[[nodiscard]] std::string too_slow(std::chrono::milliseconds limit);
[[nodiscard]] std::string queue_backed_up(std::chrono::milliseconds limit);
[[nodiscard]] std::string queue_full(size_t waiting);
[[nodiscard]] std::string stuck_device(uint64_t dev);
[[nodiscard]] std::string stuck_cap(size_t stuck);
[[nodiscard]] std::string changed();
[[nodiscard]] std::string unreadable(std::string_view why);

}  // namespace hash_text
}  // namespace cmdgate
