#pragma once
// The rule set a PolicySource stands for. Without pushed rules: the local rule files
// (rules::load_rules). With them, the combine rule of docs/fleet.md:
//   1. Every pushed rule comes before every local rule, whatever their priorities; within each
//      layer the usual precedence holds (priority, then load order).
//   2. Local rule files load only when every bundle in force admits them, and then only rules
//      whose action the bundles allow.
//   3. Top-level settings are the bundles'; a local file may repeat them but not change them.
//   4. Rule ids are unique across both layers.
// Any violation is an error naming the local file and rule, so the policy in force stays.

#include "common/result.h"
#include "policy/policy_store.h"
#include "rules/model.h"
#include "rules/parser.h"

namespace cmdgate {

// Whether building from source reads the local rule files: no bundle keeps them out and no
// last-known-good copy stands in for them.
[[nodiscard]] bool reads_local_files(const PolicySource& source);

// Without pushed rules or with a bundle admitting them, the local layer is the source's
// local_copy if it has one, else rule_paths read now; `read` (if given) receives the files read.
[[nodiscard]] Result<rules::RuleSet> load_policy_rules(
    const PolicySource& source, const rules::NameResolver& names,
    std::vector<rules::RulesText>* read = nullptr);

}  // namespace cmdgate
