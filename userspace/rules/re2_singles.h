#pragma once
// One RE2 per pattern, built on first use: the always-correct slow path behind the set engines
// (RE2 runs its NFA when its DFA gives up). Slow and lock-taking; only for the rare cases where
// a set cannot answer (DFA memory exhausted, Hyperscan scratch allocation failed).

#include <re2/re2.h>

#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "rules/pattern_matcher.h"

namespace cmdgate::rules {

class Re2Singles {
 public:
  Re2Singles(std::vector<std::string> patterns, std::vector<uint32_t> ids, PatternFlavor flavor)
      : patterns_(std::move(patterns)), ids_(std::move(ids)), flavor_(flavor) {}

  void scan(std::string_view text, MatchSink& sink) const;
  [[nodiscard]] const std::vector<std::string>& patterns() const { return patterns_; }
  [[nodiscard]] const std::vector<uint32_t>& ids() const { return ids_; }
  [[nodiscard]] PatternFlavor flavor() const { return flavor_; }

 private:
  std::vector<std::string> patterns_;
  std::vector<uint32_t> ids_;
  PatternFlavor flavor_;
  mutable std::once_flag once_;
  mutable std::vector<std::unique_ptr<RE2>> compiled_;
};

}  // namespace cmdgate::rules
