#pragma once
// The RE2::Set engine. Correct for every valid pattern: when the set's DFA runs out of memory
// (possible with very large sets on hostile input) the scan falls back to Re2Singles.

#include <re2/set.h>

#include <memory>
#include <string>
#include <vector>

#include "rules/pattern_matcher.h"
#include "rules/re2_singles.h"

namespace cmdgate::rules {

class Re2SetMatcher final : public PatternMatcher {
 public:
  // ids[i] is reported for patterns[i].
  [[nodiscard]] static Result<std::unique_ptr<Re2SetMatcher>> create(
      std::vector<std::string> patterns, std::vector<uint32_t> ids, PatternFlavor flavor);

  void scan(std::string_view text, MatchSink& sink) const override;
  [[nodiscard]] MatcherStats stats() const override { return {0, singles_.ids().size(), 0}; }

 private:
  Re2SetMatcher(std::vector<std::string> patterns, std::vector<uint32_t> ids, PatternFlavor flavor);

  Re2Singles singles_;
  RE2::Set set_;
};

}  // namespace cmdgate::rules
