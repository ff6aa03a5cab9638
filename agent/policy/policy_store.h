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

struct PolicySource {
  std::vector<std::string> rule_paths;
  std::optional<rules::Mode> mode_override;  // replaces the mode of the rule set and every rule
};

class PolicyStore {
 public:
  PolicyStore(PolicySource source, const rules::NameResolver& names,
              const rules::FileResolver& files)
      : source_(std::move(source)), names_(names), files_(files) {}

  // Loads and compiles the rule files into the next generation; the current one is untouched on
  // error. The caller publishes it to the kernel and then calls commit().
  [[nodiscard]] Result<Snapshot> build() const;
  void commit(Snapshot s);

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
