#pragma once
// The Policy implementation (see policy_layout.h for how rules are indexed). Policy::compile()
// uses the default options; compile_policy() lets tests and benchmarks pick the engine and see
// what the compiler did.

#include <memory>

#include "rules/pattern_matcher.h"
#include "rules/policy.h"
#include "rules/policy_layout.h"

namespace cmdgate::rules {

struct CompileOptions {
  MatchEngine engine = MatchEngine::kAuto;
};

struct PolicyStats {
  size_t rules = 0;
  LayoutStats layout;  // rules per anchor, patterns per engine
};

class CompiledPolicy final : public Policy {
 public:
  [[nodiscard]] Decision evaluate(const ExecContext& ctx) const override;
  [[nodiscard]] uint32_t needs() const override { return layout_.needs; }
  [[nodiscard]] const RuleSet& rule_set() const override { return rules_; }
  [[nodiscard]] const RulePaths& resolved_paths() const override { return resolved_; }
  [[nodiscard]] const std::vector<ResolvedAgent>& resolved_agents() const override {
    return agents_;
  }
  [[nodiscard]] const PolicyStats& stats() const { return stats_; }

 private:
  friend Result<std::shared_ptr<const CompiledPolicy>> compile_policy(RuleSet, const FileResolver&,
                                                                      const CompileOptions&);
  CompiledPolicy() = default;
  [[nodiscard]] Decision decision_of(uint32_t rule) const;  // kNoRule: default_action
  [[nodiscard]] Decision evaluate_uncertain(const ExecContext& ctx) const;

  RuleSet rules_;
  RulePaths resolved_;
  std::vector<ResolvedAgent> agents_;
  PolicyLayout layout_;
  PolicyStats stats_;
};

[[nodiscard]] Result<std::shared_ptr<const CompiledPolicy>> compile_policy(
    RuleSet rules, const FileResolver& resolver, const CompileOptions& options = {});

// The exact paths of every rule, resolved; what compile() stores as resolved_paths().
[[nodiscard]] Result<RulePaths> resolve_paths(const RuleSet& rules, const FileResolver& resolver);
// Every declared agent's paths, resolved and expanded; what compile() stores as
// resolved_agents().
[[nodiscard]] std::vector<ResolvedAgent> resolve_agents(const RuleSet& rules,
                                                        const FileResolver& resolver);

}  // namespace cmdgate::rules
