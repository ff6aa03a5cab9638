#include "rules/pattern_matcher.h"

#include <re2/set.h>

#include <numeric>

#include "rules/hyperscan_matcher.h"
#include "rules/re2_set_matcher.h"

namespace cmdgate::rules {
namespace {

class EmptyMatcher final : public PatternMatcher {
 public:
  void scan(std::string_view /*text*/, MatchSink& /*sink*/) const override {}
  [[nodiscard]] MatcherStats stats() const override { return {}; }
};

// Parses without compiling: cheap, and Hyperscan must never see a pattern RE2 would refuse (the
// two would then disagree on what the rule means).
Status validate(std::span<const std::string> patterns, PatternFlavor flavor) {
  RE2::Set parser(re2_options(flavor), RE2::UNANCHORED);
  for (const std::string& p : patterns) {
    std::string error;
    if (parser.Add(p, &error) < 0) {
      return Error::format("pattern '{}': {}", p, error);
    }
  }
  return {};
}

}  // namespace

Result<std::unique_ptr<PatternMatcher>> make_pattern_matcher(MatchEngine engine,
                                                             std::span<const std::string> patterns,
                                                             PatternFlavor flavor,
                                                             std::span<const uint32_t> ids) {
  std::vector<uint32_t> id_list(ids.begin(), ids.end());
  if (id_list.empty()) {
    id_list.resize(patterns.size());
    std::iota(id_list.begin(), id_list.end(), 0u);
  }
  if (id_list.size() != patterns.size()) {
    return Error::format("{} ids for {} patterns", id_list.size(), patterns.size());
  }
  if (patterns.empty()) {
    return std::unique_ptr<PatternMatcher>(std::make_unique<EmptyMatcher>());
  }
  if (engine == MatchEngine::kRe2) {
    auto m = Re2SetMatcher::create({patterns.begin(), patterns.end()}, std::move(id_list), flavor);
    if (!m.ok()) {
      return m.error();
    }
    return std::unique_ptr<PatternMatcher>(std::move(m).value());
  }
  if (Status s = validate(patterns, flavor); !s.ok()) {
    return s.error();
  }
  const auto where = engine == MatchEngine::kHyperscanInChild ? HyperscanMatcher::kInChild
                                                               : HyperscanMatcher::kInThisProcess;
  auto m = HyperscanMatcher::create(patterns, id_list, flavor, where);
  if (!m.ok()) {
    return m.error();
  }
  return std::unique_ptr<PatternMatcher>(std::move(m).value());
}

}  // namespace cmdgate::rules
