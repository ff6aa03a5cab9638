#include "rules/re2_singles.h"

namespace cmdgate::rules {

void Re2Singles::scan(std::string_view text, MatchSink& sink) const {
  std::call_once(once_, [this] {
    compiled_.reserve(patterns_.size());
    for (const std::string& p : patterns_) {
      compiled_.push_back(compile_single_re2(p, flavor_));
    }
  });
  for (size_t i = 0; i < compiled_.size(); ++i) {
    if (compiled_[i] != nullptr && RE2::PartialMatch(text, *compiled_[i])) {
      sink.on_match(ids_[i]);
    }
  }
}

}  // namespace cmdgate::rules
