#pragma once
// The Hyperscan engine: one block-mode database with HS_FLAG_SINGLEMATCH, no HS_FLAG_UTF8
// (argv and paths may be invalid UTF-8; see regex_options.h for why byte semantics are the
// definition anyway). Patterns outside hyperscan_syntax.h's subset, or that Hyperscan rejects
// (e.g. "a$b": embedded end anchors), go to an RE2::Set of their own; only a policy that uses
// such patterns pays RE2's lock on the hot path.
//
// Scratch: one hs_scratch_t per thread, grown with hs_alloc_scratch() to fit every database the
// thread has scanned (a scratch may serve any database it was sized for). Databases are
// recognised by a serial number, never by address, so a database freed and another allocated at
// the same address is not mistaken for the old one. When scratch cannot be allocated the scan
// falls back to RE2 rather than missing a match.

#include <hs/hs.h>

#include <memory>
#include <string>
#include <vector>

#include "rules/pattern_matcher.h"
#include "rules/re2_set_matcher.h"
#include "rules/re2_singles.h"

namespace cmdgate::rules {

class HyperscanMatcher final : public PatternMatcher {
 public:
  enum CompileSite : uint8_t { kInThisProcess, kInChild };  // see MatchEngine::kHyperscanInChild
  // ids[i] is reported for patterns[i]; patterns must be valid RE2 (see make_pattern_matcher).
  // Fails in a child only for the child's sake (it could not run, crashed, hung, or answered
  // what cannot be read): the patterns themselves never fail here.
  [[nodiscard]] static Result<std::unique_ptr<HyperscanMatcher>> create(
      std::span<const std::string> patterns, std::span<const uint32_t> ids, PatternFlavor flavor,
      CompileSite where = kInThisProcess);
  ~HyperscanMatcher() override;
  HyperscanMatcher(const HyperscanMatcher&) = delete;
  HyperscanMatcher& operator=(const HyperscanMatcher&) = delete;

  void scan(std::string_view text, MatchSink& sink) const override;
  [[nodiscard]] MatcherStats stats() const override;

 private:
  HyperscanMatcher() = default;

  hs_database_t* db_ = nullptr;
  uint64_t serial_ = 0;
  size_t hs_count_ = 0;
  std::unique_ptr<Re2SetMatcher> rest_;    // patterns Hyperscan does not take
  std::unique_ptr<Re2Singles> emergency_;  // the database's patterns, if scratch fails
};

}  // namespace cmdgate::rules
