#pragma once
// Many globs over one string (a path, a command name, a cgroup). Globs without metacharacters
// and pure prefixes ("/tmp/**") are answered by hash lookups; the rest become anchored regexes
// (glob_to_regex) in a PatternMatcher. Real policies are mostly the first two kinds, and they
// are the ones Hyperscan is slowest to compile (about 1 ms per anchored glob).

#include <memory>
#include <string>
#include <unordered_map>
#include <vector>

#include "rules/pattern_matcher.h"
#include "rules/string_hash.h"

namespace cmdgate::rules {

class GlobSetMatcher final : public PatternMatcher {
 public:
  // Ids are positions in globs. Fails on a malformed glob.
  [[nodiscard]] static Result<std::unique_ptr<GlobSetMatcher>> create(
      std::span<const std::string> globs, MatchEngine engine);

  void scan(std::string_view text, MatchSink& sink) const override;
  [[nodiscard]] MatcherStats stats() const override;

 private:
  GlobSetMatcher() = default;
  using IdMap = std::unordered_map<std::string, std::vector<uint32_t>, StringHash, std::equal_to<>>;

  IdMap exact_;
  IdMap prefixes_;
  std::vector<size_t> prefix_lengths_;  // distinct, ascending
  size_t literal_count_ = 0;
  std::unique_ptr<PatternMatcher> regexes_;
};

}  // namespace cmdgate::rules
