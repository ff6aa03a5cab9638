#pragma once
// One command judged as the kernel would judge it: every exec it leads to (exec_trace.h)
// evaluated against a policy with its own argv, file and lineage; the strictest outcome is the
// command's. What `cmdgate explain` prints, and what the rule-pack corpus test counts.

#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "rules/exec_trace.h"
#include "rules/policy.h"

namespace cmdgate::rules {

// The process that runs the command: what stays the same along the trace.
struct CallerFacts {
  uint32_t uid = 0;
  uint32_t gid = 0;
  std::vector<uint32_t> groups;
  std::vector<std::pair<std::string, std::string>> lineage;  // (comm, executable), parent first
  bool tty = false;
  std::string cgroup;
  uint64_t agents = 0;  // its agent label (bits of RuleSet::agents)
};

struct JudgedExec {
  std::string file;         // the executed file, resolved (the script, for a script)
  std::string interpreter;  // a script's interpreter, resolved; empty for a binary
  Decision decision;        // for a script: script and interpreter combined (combine_script)
  std::optional<Decision> interpreter_decision;
};

struct LineVerdict {
  ExecTrace trace;
  std::vector<JudgedExec> judged;  // judged[i] is trace.execs[i]
  Decision decision;               // the strictest of them; allow when nothing runs
  int deciding = -1;               // the exec it came from; -1: nothing runs

  // Fail closed: a trace that could not be followed to the end counts as held.
  [[nodiscard]] bool unknown() const { return !trace.unknowns.empty(); }
  [[nodiscard]] bool held() const { return unknown() || decision.effect() >= Action::kAsk; }
};

[[nodiscard]] LineVerdict judge_command(const Policy& policy, const ExecHost& host,
                                        const CallerFacts& caller,
                                        const std::vector<std::string>& argv, const ShellEnv& env);

}  // namespace cmdgate::rules
