#pragma once
// Compiles rule files into policy snapshots and keeps the recent ones by generation, so an exec
// the kernel judged under generation N is explained and decided by snapshot N, not by whatever
// was loaded since.

#include <cstdint>
#include <deque>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "common/result.h"
#include "rules/kernel_policy.h"
#include "rules/kernel_verdicts.h"
#include "rules/parser.h"
#include "rules/policy.h"

namespace cmdgate {

struct Snapshot {
  uint32_t generation = 0;
  std::shared_ptr<const rules::Policy> policy;
  std::shared_ptr<const rules::KernelVerdicts> verdicts;  // refers to *policy
  rules::KernelPolicy kernel;
};

// Rules pushed by the fleet (agent/fleet/): the files of every bundle in force, combined with the
// local rule files by the rule of docs/fleet.md (policy/combined_rules.h).
struct PushedRules {
  std::string label;                         // "web@7, all@3": names the bundles in logs
  std::vector<rules::RulesText> documents;   // every bundle's files, groups in configured order
  bool admit_local = false;                  // local rule files load, below every pushed rule
  std::vector<rules::Action> local_actions;  // the actions local rules may take; empty: any
};

struct PolicySource {
  std::vector<std::string> rule_paths;
  std::optional<rules::Mode> mode_override;  // replaces the mode of the rule set and every rule
  std::optional<PushedRules> pushed;         // none: the local rule files alone
};

class PolicyStore {
 public:
  PolicyStore(PolicySource source, const rules::NameResolver& names,
              const rules::FileResolver& files)
      : source_(std::move(source)), names_(names), files_(files) {}

  // Loads and compiles the rule files into the next generation; the current one is untouched on
  // error. The caller publishes it to the kernel and then calls commit().
  [[nodiscard]] Result<Snapshot> build() const { return build(source_); }
  // The same from another source (a candidate: new pushed rules); set_source() adopts it.
  [[nodiscard]] Result<Snapshot> build(const PolicySource& source) const;
  void commit(Snapshot s);
  void set_source(PolicySource source) { source_ = std::move(source); }
  [[nodiscard]] const PolicySource& source() const { return source_; }

  [[nodiscard]] const Snapshot* current() const { return history_.empty() ? nullptr : &history_.back(); }
  [[nodiscard]] const Snapshot* find(uint32_t generation) const;
  [[nodiscard]] const std::vector<std::string>& rule_paths() const { return source_.rule_paths; }

 private:
  static constexpr size_t kHistory = 4;
  PolicySource source_;
  const rules::NameResolver& names_;
  const rules::FileResolver& files_;
  std::deque<Snapshot> history_;
};

}  // namespace cmdgate
