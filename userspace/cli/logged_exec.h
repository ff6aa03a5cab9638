#pragma once
// One line of the decision log (docs/decision-log.md) read back: the facts the evaluator reads,
// as far as the line records them, and the decision it records. `cmdgate replay` judges these
// under other rules; `cmdgate suggest` groups them.

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "common/result.h"
#include "rules/policy.h"

namespace cmdgate::cli {

struct LoggedAncestor {
  std::string comm;
  std::optional<std::string> exe;  // recorded only when a rule then needed ancestor paths
};

struct LoggedExec {
  size_t line = 0;  // 1-based, in its file
  // What was decided: the rule's action and effective mode; absent on lines that record no
  // policy decision (failsafe, gone, the end of a hold).
  std::optional<rules::Action> action;
  std::optional<rules::Mode> mode;
  std::string rule;     // "" for default_action
  std::string outcome;  // as logged
  bool decision = false;  // a policy decision (see docs/cli.md, "replay")

  std::string exe;  // the exact bytes
  rules::FileId file;
  std::optional<rules::Sha256> sha256;
  uint8_t file_kinds = 0;
  std::vector<std::string> argv;
  uint32_t uid = 0;
  uint32_t gid = 0;
  bool tty = false;
  std::vector<LoggedAncestor> lineage;  // parent first
  uint64_t agents = 0;
  bool agent_unknown = false;
  std::optional<std::string> cgroup;
  uint32_t unknown = 0;  // rules::Unknown bits: what the daemon could not establish then
  // Files the decision also read, whose identities the log does not record.
  std::optional<std::string> script;  // the script's path (or as the caller named it)
  std::optional<std::string> loaded;
  std::optional<std::string> copy_of;
};

// One line's JSON object -> LoggedExec; the error says which field is wrong.
[[nodiscard]] Result<LoggedExec> logged_exec(const nlohmann::json& j, size_t line);

// Every line of the log at `path`, in order; stops at the first bad line with an error naming
// path:line (path:line:column when it is not JSON). `each` returns false to stop early.
[[nodiscard]] Status read_decision_log(const std::string& path,
                                       const std::function<bool(const LoggedExec&)>& each);

// The logged exec judged under `policy`: a decision, or what the line lacks for one (never a
// guess: a fact the policy reads that the line does not record makes the line unjudgeable).
struct Rejudged {
  std::optional<rules::Decision> decision;
  std::vector<std::string> missing;
};
[[nodiscard]] Rejudged rejudge(const rules::Policy& policy, const rules::FileResolver& files,
                               const LoggedExec& e);

// "allow", "audit", "deny", "ask", "would_deny", "would_ask": what an action in a mode does.
[[nodiscard]] std::string outcome_word(rules::Action action, rules::Mode mode);

}  // namespace cmdgate::cli
