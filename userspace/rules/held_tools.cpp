#include "rules/held_tools.h"

#include <algorithm>

namespace cmdgate::rules {

std::vector<HeldTool> held_tools(const Policy& policy) {
  std::vector<HeldTool> out;
  const RuleSet& rules = policy.rule_set();
  const auto& resolved = policy.resolved_paths();
  for (size_t i = 0; i < rules.rules.size(); ++i) {
    if (!rules.rules[i].match.has_agent_predicate()) {
      continue;
    }
    for (const ResolvedPath& p : resolved.of(i)) {
      if (p.id && !is_held_tool(out, *p.id)) {
        out.push_back({*p.id, p.canonical()});
      }
    }
  }
  return out;
}

bool is_held_tool(const std::vector<HeldTool>& tools, const FileId& file) {
  return std::any_of(tools.begin(), tools.end(), [&](const HeldTool& t) { return t.id == file; });
}

}  // namespace cmdgate::rules
