#include "rules/glob_set_matcher.h"

#include <algorithm>

#include "rules/glob.h"

namespace cmdgate::rules {

Result<std::unique_ptr<GlobSetMatcher>> GlobSetMatcher::create(std::span<const std::string> globs,
                                                               MatchEngine engine) {
  std::unique_ptr<GlobSetMatcher> m(new GlobSetMatcher());
  std::vector<std::string> regexes;
  std::vector<uint32_t> regex_ids;
  for (size_t i = 0; i < globs.size(); ++i) {
    const std::string& g = globs[i];
    auto re = glob_to_regex(g);  // validates every glob, including the ones not matched by regex
    if (!re.ok()) {
      return re.error();
    }
    const auto id = static_cast<uint32_t>(i);
    if (!is_glob(g)) {
      m->exact_[glob_literal_prefix(g)].push_back(id);
      ++m->literal_count_;
    } else if (glob_is_pure_prefix(g)) {
      std::string prefix = glob_literal_prefix(g);
      m->prefix_lengths_.push_back(prefix.size());
      m->prefixes_[std::move(prefix)].push_back(id);
      ++m->literal_count_;
    } else {
      regexes.push_back(std::move(re).value());
      regex_ids.push_back(id);
    }
  }
  std::sort(m->prefix_lengths_.begin(), m->prefix_lengths_.end());
  m->prefix_lengths_.erase(std::unique(m->prefix_lengths_.begin(), m->prefix_lengths_.end()),
                           m->prefix_lengths_.end());
  auto matcher = make_pattern_matcher(engine, regexes, PatternFlavor::kGlob, regex_ids);
  if (!matcher.ok()) {
    return matcher.error();
  }
  m->regexes_ = std::move(matcher).value();
  return m;
}

void GlobSetMatcher::scan(std::string_view text, MatchSink& sink) const {
  if (!exact_.empty()) {
    if (auto it = exact_.find(text); it != exact_.end()) {
      for (uint32_t id : it->second) {
        sink.on_match(id);
      }
    }
  }
  for (size_t len : prefix_lengths_) {
    if (len > text.size()) {
      break;
    }
    if (auto it = prefixes_.find(text.substr(0, len)); it != prefixes_.end()) {
      for (uint32_t id : it->second) {
        sink.on_match(id);
      }
    }
  }
  regexes_->scan(text, sink);
}

MatcherStats GlobSetMatcher::stats() const {
  MatcherStats s = regexes_->stats();
  s.literal_patterns += literal_count_;
  return s;
}

}  // namespace cmdgate::rules
