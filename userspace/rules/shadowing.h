#pragma once
// Rules that can never decide because a rule before them in precedence order matches every exec
// they match: what `cmdgate check` warns about. Only what the match keys prove is reported
// (see shadowed_by in shadowing.cpp and docs/rules.md, "Shadowed rules"); a rule shadowed in a
// way the keys do not show (a glob above covering an exact path below, a regex above that
// accepts more) is not found, and a rule that is found is shadowed for certain.

#include <cstddef>
#include <vector>

#include "rules/model.h"

namespace cmdgate::rules {

// Beyond this many rules the pairwise comparison is not run (it is quadratic).
inline constexpr size_t kMaxShadowCheckedRules = 20'000;

struct Shadowed {
  size_t rule = 0;  // index into RuleSet::rules
  size_t by = 0;    // an earlier rule that matches every exec it matches
  // False: `rule` never decides. True: it is stricter than every earlier rule that covers it,
  // and each of those has a key that can only might-hold, so it may still decide an exec for
  // which a fact is unknown (docs/rules.md, "When cmdgate cannot establish a fact"); it never
  // decides another.
  bool decides_when_unknown = false;
};

// In precedence order of `rule`, each shadowed rule once. `by` is the first covering rule that
// leaves it nothing to decide, else the first covering rule.
// Empty when set.rules.size() > kMaxShadowCheckedRules.
[[nodiscard]] std::vector<Shadowed> find_shadowed(const RuleSet& set);

}  // namespace cmdgate::rules
