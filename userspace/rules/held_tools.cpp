#include "rules/held_tools.h"

#include <algorithm>

namespace cmdgate::rules {

std::vector<HeldTool> held_tools(const Policy& policy) {
  std::vector<HeldTool> out;
  const RuleSet& rules = policy.rule_set();
  for_each_rule_path(policy, [&](size_t i, const std::string& written, const RulePath& p) {
    if (rules.rules[i].match.has_agent_predicate() && p.id && !is_held_tool(out, *p.id)) {
      out.push_back({*p.id, p.canonical(written)});
    }
  });
  return out;
}

bool is_held_tool(const std::vector<HeldTool>& tools, const FileId& file) {
  return std::any_of(tools.begin(), tools.end(), [&](const HeldTool& t) { return t.id == file; });
}

}  // namespace cmdgate::rules
