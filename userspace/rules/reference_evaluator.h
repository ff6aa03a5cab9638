#pragma once
// The specification of Policy::evaluate() as code: a plain first-match scan over the rules, each
// predicate tested the obvious way with one RE2 per pattern, three-valued under unknown facts.
// Slow and lock-taking; the oracle the compiled policy is tested against, not for the hot path.

#include <vector>

#include "rules/exec_context.h"
#include "rules/policy.h"

namespace cmdgate::rules {

// resolved.of(i)[j] is rules.rules[i].match.paths[j], resolved (Policy::resolved_paths()).
// Decision rule pointers point into rules. A pattern that does not compile never matches.
[[nodiscard]] Decision evaluate_reference(const RuleSet& rules, const RulePaths& resolved,
                                          const ExecContext& ctx);

}  // namespace cmdgate::rules
