#include "rules/agent_match.h"

#include <re2/re2.h>

#include <algorithm>

#include "rules/glob.h"
#include "rules/regex_options.h"

namespace cmdgate::rules {
namespace {

bool comm_matches(const std::string& pattern, std::string_view comm) {
  const bool prefix = pattern.ends_with('*');
  const std::string_view literal(pattern.data(), pattern.size() - (prefix ? 1 : 0));
  return prefix ? comm.starts_with(literal) : comm == literal;
}

// Globs without "**": '*' stays within a component, as in the kernel's directory match. Compiled
// as the policy compiles globs (bytes, not UTF-8): the kernel labels a file whatever its name.
bool path_glob_matches(const std::string& glob, std::string_view exe) {
  auto re = glob_to_regex(glob);
  if (!re.ok()) {
    return false;
  }
  const auto compiled = compile_single_re2(*re, PatternFlavor::kGlob);  // anchored at both ends
  return compiled != nullptr && RE2::PartialMatch(exe, *compiled);
}

}  // namespace

uint64_t agents_of_process(const RuleSet& set, std::string_view comm, std::string_view exe) {
  uint64_t mask = 0;
  for (const AgentDecl& a : set.agents) {
    const bool named = std::any_of(a.comms.begin(), a.comms.end(),
                                   [&](const std::string& p) { return comm_matches(p, comm); });
    const bool at_path =
        !exe.empty() &&
        (std::find(a.paths.begin(), a.paths.end(), exe) != a.paths.end() ||
         std::any_of(a.path_globs.begin(), a.path_globs.end(),
                     [&](const std::string& g) { return path_glob_matches(g, exe); }));
    if ((named || at_path) && a.bit < 64) {
      mask |= uint64_t{1} << a.bit;
    }
  }
  return mask;
}

}  // namespace cmdgate::rules
