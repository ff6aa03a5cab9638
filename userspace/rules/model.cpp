#include "rules/model.h"

#include <algorithm>

namespace cmdgate::rules {

const std::string& told(const Rule& r) {
  const std::optional<std::string>& message = r.message;
  return message ? *message : r.description.get();
}

// Names from the tables, whose words are string literals: NUL-terminated.
const char* to_string(Action a) {
  return kActionWords.name(a).data();
}

const char* to_string(Mode m) {
  return kModeWords.name(m).data();
}

uint64_t agent_mask(const RuleSet& set, const std::vector<std::string>& names) {
  uint64_t mask = 0;
  for (const AgentDecl& a : set.agents) {
    if (a.bit < 64 && std::find(names.begin(), names.end(), a.name) != names.end()) {
      mask |= uint64_t{1} << a.bit;
    }
  }
  return mask;
}

}  // namespace cmdgate::rules
