#include "rules/compiled_policy.h"

#include "rules/glob.h"

namespace cmdgate::rules {

Result<RulePaths> resolve_paths(const RuleSet& rules, const FileResolver& resolver) {
  std::vector<std::string> all;
  std::vector<uint32_t> counts;
  counts.reserve(rules.rules.size());
  for (const Rule& rule : rules.rules) {
    all.insert(all.end(), rule.match.paths.begin(), rule.match.paths.end());
    counts.push_back(static_cast<uint32_t>(rule.match.paths.size()));
  }
  const size_t asked = all.size();
  std::vector<ResolvedPath> resolved = resolver.resolve(std::move(all));
  if (resolved.size() != asked) {
    // A path without an answer would match nothing: unknown is not "no file".
    return Error::format("resolving the rules' exact paths: {} answers for {} paths",
                         resolved.size(), asked);
  }
  std::vector<RulePath> kept;
  kept.reserve(resolved.size());
  for (const ResolvedPath& p : resolved) {
    kept.emplace_back(p);
  }
  return RulePaths(std::move(kept), counts);
}

std::vector<ResolvedAgent> resolve_agents(const RuleSet& rules, const FileResolver& resolver) {
  const auto resolve = [&](const std::string& text) -> ResolvedPath {
    return {text, resolver.canonical(text), resolver.identity(text)};
  };
  std::vector<ResolvedAgent> out;
  out.reserve(rules.agents.size());
  for (const AgentDecl& a : rules.agents) {
    ResolvedAgent& r = out.emplace_back();
    for (const std::string& p : a.paths) {
      r.files.push_back(resolve(p));
    }
    for (const std::string& g : a.path_globs) {
      if (g.ends_with("/*")) {
        const std::string dir = g.substr(0, g.size() - 2);
        for (const std::string& d : is_glob(dir) ? resolver.expand(dir) : std::vector{dir}) {
          r.dirs.push_back(resolve(d));
        }
      } else {
        for (const std::string& f : resolver.expand(g)) {
          r.files.push_back(resolve(f));
        }
      }
    }
  }
  return out;
}

Result<std::shared_ptr<const CompiledPolicy>> compile_policy(RuleSet rules,
                                                             const FileResolver& resolver,
                                                             const CompileOptions& options) {
  std::shared_ptr<CompiledPolicy> p(new CompiledPolicy());
  auto resolved = resolve_paths(rules, resolver);
  if (!resolved.ok()) {
    return resolved.error().context("compiling policy");
  }
  p->resolved_ = std::move(resolved).value();
  p->agents_ = resolve_agents(rules, resolver);
  p->rules_ = std::move(rules);
  p->stats_.rules = p->rules_.rules.size();
  auto layout = build_layout(p->rules_, p->resolved_, options.engine, &p->stats_.layout);
  if (!layout.ok()) {
    return layout.error().context("compiling policy");
  }
  p->layout_ = std::move(layout).value();
  return std::shared_ptr<const CompiledPolicy>(std::move(p));
}

Decision CompiledPolicy::evaluate(const ExecContext& ctx) const {
  // An unknown fact no rule reads cannot change the decision: the fast path stays exact.
  if ((ctx.unknown & layout_.unknowns_read) != 0) [[unlikely]] {
    return evaluate_uncertain(ctx);
  }
  return decision_of(evaluate_layout(layout_, ctx));
}

Decision CompiledPolicy::decision_of(uint32_t r) const {
  if (r == kNoRule) {
    return {rules_.default_action, rules_.mode, nullptr};
  }
  const Rule& rule = rules_.rules[r];
  return {rule.action, rule.mode.value_or(rules_.mode), &rule};
}

Decision CompiledPolicy::evaluate_uncertain(const ExecContext& ctx) const {
  const UncertainMatch m = evaluate_layout_uncertain(layout_, ctx);
  const Decision certain = decision_of(m.holds);
  if (m.might_hold == kNoRule || layout_.rules[m.might_hold].strictness <= certain.strictness()) {
    return certain;
  }
  Decision d = decision_of(m.might_hold);
  d.uncertain = true;
  return d;
}

Result<std::shared_ptr<const Policy>> Policy::compile(RuleSet rules, const FileResolver& resolver) {
  auto p = compile_policy(std::move(rules), resolver);
  if (!p.ok()) {
    return p.error();
  }
  return std::shared_ptr<const Policy>(std::move(p).value());
}

}  // namespace cmdgate::rules
