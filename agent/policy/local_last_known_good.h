#pragma once
// The last-known-good copy of the local rule files: the texts of every local rules file, as read
// by the last build that compiled and went into force, saved in one atomically replaced, fsync'd
// file (fleet/secure_file.h) in the state directory. At start, when the rule files themselves do
// not compile (a bad edit, a user name that does not resolve yet), the daemon enforces this copy
// instead of refusing to start, and says so in its log and in `cmdgate status`.

#include <array>
#include <optional>
#include <string>
#include <vector>

#include "common/result.h"
#include "rules/parser.h"

namespace cmdgate {

struct LocalCopy {
  std::vector<rules::RulesText> files;  // origin: the file's path when it was read
  uint64_t saved_unix_ms = 0;
};

class LocalLastKnownGood {
 public:
  explicit LocalLastKnownGood(std::string path) : path_(std::move(path)) {}

  // Replaces the copy (creating the directory, 0700, if needed). Texts this process saved last
  // are not written again.
  [[nodiscard]] Status save(const std::vector<rules::RulesText>& files);
  // The copy; an error names the file (missing, unreadable, not written by save()).
  [[nodiscard]] Result<LocalCopy> load() const;
  [[nodiscard]] const std::string& path() const { return path_; }

 private:
  std::string path_;
  // A digest of the texts this process wrote last (the texts themselves are not kept: with
  // thousands of rules they are the size of the rule files).
  std::optional<std::array<unsigned char, 32>> last_saved_;
};

}  // namespace cmdgate
