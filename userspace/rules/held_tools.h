#pragma once
// Held tools: the files `agent` rules name by exact path. A process that carries an agent label
// (or an unknown one) and executes a copy of one (another file with the same content) is judged
// as that file too, the stricter verdict winning: `cp /usr/bin/git ~/g; ~/g push -f` is git.
// A copy run outside every agent's tree is judged as itself, as exact paths are identities.

#include <string>
#include <vector>

#include "rules/policy.h"

namespace cmdgate::rules {

struct HeldTool {
  FileId id;
  std::string path;  // canonical, as resolved when the policy was compiled
};

// Every file an `agent` rule's exact paths resolved to, once each, in rule order.
[[nodiscard]] std::vector<HeldTool> held_tools(const Policy& policy);

[[nodiscard]] bool is_held_tool(const std::vector<HeldTool>& tools, const FileId& file);

}  // namespace cmdgate::rules
