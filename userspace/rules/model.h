#pragma once
// What a rules file says, after parsing and validation: the input of Policy::compile and of the
// reference evaluator. Schema and semantics: docs/rules.md.

#include <array>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "common/source_location.h"
#include "common/words.h"
#include "rules/predicate_list.h"
#include "rules/sparse.h"

namespace cmdgate::rules {

// Ordered by strictness (combining two outcomes keeps the larger).
enum class Action : uint8_t { kAllow = 0, kAudit = 1, kAsk = 2, kDeny = 3 };
enum class Mode : uint8_t { kEnforce = 0, kMonitor = 1 };

// Bits of Match::file_kinds.
enum FileKind : uint8_t { kFileMemfd = 1u << 0, kFileDeleted = 1u << 1 };

// The words rules files write for them (the daemon's mode override takes the same).
inline constexpr Words<Action, 4> kActionWords{{{{"allow", Action::kAllow},
                                                 {"audit", Action::kAudit},
                                                 {"deny", Action::kDeny},
                                                 {"ask", Action::kAsk}}}};
// What an unanswered ask turns into.
inline constexpr Words<Action, 2> kTimeoutActionWords{
    {{{"allow", Action::kAllow}, {"deny", Action::kDeny}}}};
inline constexpr Words<Mode, 2> kModeWords{
    {{{"enforce", Mode::kEnforce}, {"monitor", Mode::kMonitor}}}};
inline constexpr Words<uint8_t, 2> kFileKindWords{
    {{{"memfd", kFileMemfd}, {"deleted", kFileDeleted}}}};

// Bits of Match::trust and ExecContext::trust: where a file's content is vouched for.
// kTrustPackage: a file an installed dpkg package owns, with the content dpkg recorded for it.
enum Trust : uint8_t { kTrustPackage = 1u << 0 };
inline constexpr Words<uint8_t, 1> kTrustWords{{{{"package", kTrustPackage}}}};

using Sha256 = std::array<uint8_t, 32>;

// A parent/ancestor pattern: text starting with '/' is a glob over the executable's path,
// anything else a glob over its command name (comm, at most 15 characters).
struct ProcessPattern {
  std::string text;
  bool is_path = false;
};

// A declared agent ([[agent]]): what makes a process one of its own. The kernel labels a process
// that execs such a file (or under such a name or unit) with the agent's bit, and every process
// it starts inherits the label.
// The longest command name (comm) the kernel keeps: TASK_COMM_LEN - 1 (checked against the BPF
// ABI in agent/probe/agent_maps.cpp).
inline constexpr size_t kMaxCommLength = 15;

struct AgentDecl {
  std::string name;
  std::string description;
  std::vector<std::string> paths;       // exact absolute paths of its executables
  std::vector<std::string> path_globs;  // globs (no "**"), expanded when the policy is compiled
  std::vector<std::string> comms;       // command names; "prefix*" names every one that starts so
  std::vector<std::string> units;       // cgroup v2 leaf names (systemd units); "prefix*" too
  uint32_t bit = 0;                     // its bit in a label; see RuleSet::agents
  SourceLocation where;                 // the [[agent]] header
};

// Every non-empty predicate must hold (AND); within one predicate any element may match (OR).
struct Match {
  PredicateList<std::string> paths;         // exact absolute paths (no glob characters)
  PredicateList<std::string> path_globs;    // globs over the executed file's resolved path
  PredicateList<Sha256> sha256;             // content of the executed file
  PredicateList<std::string> args;          // RE2, unanchored, against each of argv[1..]
  PredicateList<std::string> cmdline;       // RE2, unanchored, against argv joined by single spaces
  PredicateList<uint32_t> uids;             // real uid
  PredicateList<uint32_t> gids;             // real gid or any supplementary group
  PredicateList<ProcessPattern> parent;     // the parent at fork time
  PredicateList<ProcessPattern> ancestor;   // any recorded ancestor (parent included)
  PredicateList<std::string> cgroup_globs;  // cgroup v2 path, e.g. "/system.slice/nginx.service"
  std::optional<bool> tty;                  // has a controlling terminal
  uint8_t file_kinds = 0;                   // FileKind bits; 0: any file
  uint8_t trust = 0;                        // Trust bits, any of which vouches for the file; 0: any
  PredicateList<std::string> agents;        // declared agent names: the process carries one's label

  bool has_file_predicate() const {
    return !paths.empty() || !path_globs.empty() || !sha256.empty() || file_kinds != 0 ||
           trust != 0;
  }
  bool has_agent_predicate() const { return !agents.empty(); }
  // Everything the kernel cannot see but the agent label.
  bool has_context_predicate() const {
    return !args.empty() || !cmdline.empty() || !uids.empty() || !gids.empty() ||
           !parent.empty() || !ancestor.empty() || tty.has_value() || !cgroup_globs.empty();
  }
};

struct Rule {
  std::string id;
  Sparse<std::string> description;
  // What the caller of a denied or held exec is told on its stderr; unset: the description,
  // "": nothing (and a kernel that can deny alone does so). url: where to read more.
  Sparse<std::optional<std::string>> message;
  Sparse<std::string> url;
  Action action = Action::kDeny;
  std::optional<Mode> mode;                    // overrides RuleSet::mode for this rule
  int32_t priority = 0;                        // higher is tried first
  std::optional<std::chrono::milliseconds> ask_timeout;  // ask only; else RuleSet::ask_timeout
  std::optional<Action> timeout_action;        // ask only: kAllow or kDeny
  Match match;
  SourceLocation where;                        // the [[rule]] header
};

struct RuleSet {
  Mode mode = Mode::kEnforce;
  Action default_action = Action::kAllow;
  std::chrono::milliseconds ask_timeout{std::chrono::minutes(2)};
  Action timeout_action = Action::kDeny;
  // Precedence order: stable-sorted by priority (descending), ties in load order (files in the
  // order given, a directory's *.toml files sorted by name, rules in file order). The first
  // rule that matches decides.
  std::vector<Rule> rules;
  // Declared agents, in load order. Each one's bit is its index unless the daemon numbers them
  // (agent bits must outlive a reload: processes keep their labels); names are unique.
  std::vector<AgentDecl> agents;
  std::vector<std::string> sources;  // files that were loaded, in load order
};

// The label bits of the named agents (names the set does not declare are skipped).
[[nodiscard]] uint64_t agent_mask(const RuleSet& set, const std::vector<std::string>& names);

// What the rule tells the caller: its message, else its description.
[[nodiscard]] const std::string& told(const Rule& r);

const char* to_string(Action a);
const char* to_string(Mode m);

}  // namespace cmdgate::rules
