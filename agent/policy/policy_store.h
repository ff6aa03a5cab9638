#pragma once
// Compiles rule files into policy snapshots and keeps them by generation, so an exec the kernel
// judged under generation N is explained and decided by snapshot N, not by whatever was loaded
// since: a snapshot stays until the ring has been read past every record it can have produced
// (PolicyManager::publish). Building is thread-safe (it touches nothing here); committing and
// reading the history belong to the event loop.

#include <cstdint>
#include <deque>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "common/result.h"
#include "rules/held_tools.h"
#include "rules/kernel_policy.h"
#include "rules/kernel_verdicts.h"
#include "rules/parser.h"
#include "rules/pattern_matcher.h"
#include "rules/policy.h"
#include "trust/dpkg_database.h"

namespace cmdgate {

struct Snapshot {
  uint32_t generation = 0;  // assigned by commit()
  std::shared_ptr<const rules::Policy> policy;
  // Derived from the policy first compiled for this generation (same rules whatever the
  // engine), which it keeps alive.
  std::shared_ptr<const rules::Policy> verdicts_policy;
  std::shared_ptr<const rules::KernelVerdicts> verdicts;
  rules::KernelPolicy kernel;
  std::vector<rules::HeldTool> held_tools;  // whose copies an agent's processes cannot run freely
  // What trust = "package" reads, loaded with the policy when a rule uses it (Policy::needs):
  // each generation judges by the database as it was when that generation was built. Null when
  // no rule needs it, or when it could not be read (packages_error says why): then whether a
  // file is a package's is unknown for every exec.
  std::shared_ptr<const trust::DpkgDatabase> packages;
  std::string packages_error;
  bool final_engine = false;  // compiled with the engine meant for steady state
  // The local rule files as read for this snapshot, for the last-known-good copy (publishing
  // takes them); none when they were not read (a bundle that does not admit them, or the copy
  // itself in force).
  std::shared_ptr<const std::vector<rules::RulesText>> local_files;
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
  // The last-known-good copy of the local rule files, used instead of reading rule_paths: only
  // when the files themselves did not compile at start (policy/local_last_known_good.h).
  std::optional<std::vector<rules::RulesText>> local_copy;
};

class PolicyStore {
 public:
  PolicyStore(PolicySource source, const rules::NameResolver& names,
              const rules::FileResolver& files)
      : source_(std::move(source)), names_(names), files_(files) {}

  // Loads the rule files and compiles them with the given engine. Touches no state: safe on a
  // worker thread.
  [[nodiscard]] Result<Snapshot> build(rules::MatchEngine engine) const {
    return build(source_, engine);
  }
  // The same from another source (a candidate: new pushed rules), which the caller keeps alive
  // and unchanged meanwhile; set_source() adopts it once it is in force.
  [[nodiscard]] Result<Snapshot> build(const PolicySource& source, rules::MatchEngine engine) const;
  // The same rules as s, compiled with another engine (same generation, same kernel policy).
  [[nodiscard]] Result<std::shared_ptr<const rules::Policy>> recompile(
      const Snapshot& s, rules::MatchEngine engine) const;

  [[nodiscard]] uint32_t next_generation() const {
    return history_.empty() ? first_generation_ : history_.back()->generation + 1;
  }
  // Generations continue after a predecessor's still in force (KernelPort::adopted_generation):
  // the kernel's learned verdicts name the generation they were learned under.
  void continue_after(uint32_t generation) { first_generation_ = generation + 1; }
  // Makes s (with its generation set) the current snapshot.
  void commit(Snapshot s);
  // Drops every snapshot but the current one: for when no record of an older generation can
  // arrive any more. An evaluation still under way holds its own (find_shared).
  void forget_older();
  // Replaces the policy of a generation still held with an equivalent one.
  bool upgrade(uint32_t generation, std::shared_ptr<const rules::Policy> policy);

  [[nodiscard]] const Snapshot* current() const {
    return history_.empty() ? nullptr : history_.back().get();
  }
  [[nodiscard]] const Snapshot* find(uint32_t generation) const;
  // The same, kept alive by the caller (an evaluation waiting for files outlives the history).
  [[nodiscard]] std::shared_ptr<const Snapshot> find_shared(uint32_t generation) const;
  [[nodiscard]] std::shared_ptr<const Snapshot> current_shared() const {
    return history_.empty() ? nullptr : history_.back();
  }
  [[nodiscard]] const std::vector<std::string>& rule_paths() const { return source_.rule_paths; }
  // The event loop's: no build may be reading the source being replaced.
  void set_source(PolicySource source) { source_ = std::move(source); }
  [[nodiscard]] const PolicySource& source() const { return source_; }
  [[nodiscard]] const rules::FileResolver& files() const { return files_; }

 private:
  PolicySource source_;
  const rules::NameResolver& names_;
  const rules::FileResolver& files_;
  std::deque<std::shared_ptr<const Snapshot>> history_;
  uint32_t first_generation_ = 1;
};

}  // namespace cmdgate
