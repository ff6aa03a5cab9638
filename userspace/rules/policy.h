#pragma once
// A compiled, immutable policy: the rules of one RuleSet arranged so that evaluating an exec is a
// few hash lookups and one pass of each multi-pattern matcher, allocation-free and lock-free.

#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <utility>

#include "common/result.h"
#include "rules/exec_context.h"
#include "rules/model.h"

namespace cmdgate::rules {

// Fields of ExecContext that cost something to fill; Policy::needs() says which ones it reads.
enum Need : uint32_t {
  kNeedSha256 = 1u << 0,        // some rule matches on sha256
  kNeedGroups = 1u << 1,        // some rule matches on group
  kNeedCgroup = 1u << 2,        // some rule matches on cgroup
  kNeedLineagePaths = 1u << 3,  // some parent/ancestor pattern is a path
  kNeedTrust = 1u << 4,         // some rule matches on trust (and so on the file's content)
};

struct Decision {
  Action action = Action::kAllow;  // what the deciding rule (or default_action) says
  Mode mode = Mode::kEnforce;      // the effective mode of that rule
  const Rule* rule = nullptr;      // null: default_action decided
  // True when a fact the daemon could not establish decided (see Policy::evaluate): the first
  // rule that certainly holds (else default_action) would give a less strict outcome than a rule
  // before it that might hold, and this is that rule's decision. Always false when
  // ExecContext::unknown is 0.
  bool uncertain = false;

  // What actually happens: in monitor mode deny and ask only audit ("would deny").
  [[nodiscard]] Action effect() const {
    return mode == Mode::kMonitor && action >= Action::kAsk ? Action::kAudit : action;
  }
  [[nodiscard]] bool would_block() const { return action >= Action::kAsk; }
  // Orders outcomes: by effect() (deny > ask > audit > allow), then by action, so that a
  // monitor-mode deny ("would deny") ranks above a plain audit.
  [[nodiscard]] uint8_t strictness() const {
    return static_cast<uint8_t>(static_cast<uint8_t>(effect()) * 4 + static_cast<uint8_t>(action));
  }
};

// A script exec is judged by both the script and its interpreter: the stricter effect wins; on a
// tie, the script's decision (its rule is the more specific explanation).
[[nodiscard]] Decision combine_script(const Decision& script, const Decision& interpreter);

// An exact-path predicate after resolution. It matches the file identity only: every hard
// link and symlink to that file, and nothing else. A path that does not exist at compile time
// matches nothing; the daemon recompiles when a named path appears or is replaced (an upgrade
// installs a new inode), see agent/policy/path_watch.h.
struct ResolvedPath {
  ResolvedPath(std::string text_as_written, std::string realpath, std::optional<FileId> identity)
      : text(std::move(text_as_written)),
        id(identity),
        canonical_(realpath == text ? std::string() : std::move(realpath)) {}

  // realpath at compile time (for messages and watches).
  [[nodiscard]] const std::string& canonical() const {
    return canonical_->empty() ? text : *canonical_;
  }

  std::string text;  // as written in the rule
  std::optional<FileId> id;

 private:
  Sparse<std::string> canonical_;  // empty where it is the text, as it is for most paths
};

// One of a rule's exact paths as a policy keeps it while it is in force: what it resolved to. The
// path as written is the rule's own (rules[i].match.paths[j]), not kept twice.
struct RulePath {
  RulePath() = default;
  explicit RulePath(const ResolvedPath& p) : id(p.id), realpath_(differs(p)) {}

  // realpath at compile time, given the path as written.
  [[nodiscard]] const std::string& canonical(const std::string& as_written) const {
    return realpath_->empty() ? as_written : *realpath_;
  }

  std::optional<FileId> id;

 private:
  static std::string differs(const ResolvedPath& p) {
    return p.canonical() == p.text ? std::string() : p.canonical();
  }

  Sparse<std::string> realpath_;  // empty where it is the path as written
};

// The exact paths of every rule, resolved, in one array (a policy keeps them while it is in
// force): of(i)[j] is rules[i].match.paths[j].
class RulePaths {
 public:
  RulePaths() = default;
  // by_rule[i]: rule i's paths.
  explicit RulePaths(const std::vector<std::vector<ResolvedPath>>& by_rule);
  // Rule i has counts[i] of `all`, in order.
  RulePaths(std::vector<RulePath> all, const std::vector<uint32_t>& counts);

  [[nodiscard]] std::span<const RulePath> of(size_t rule) const {
    return rule + 1 < begins_.size()
               ? std::span(paths_).subspan(begins_[rule], begins_[rule + 1] - begins_[rule])
               : std::span<const RulePath>();
  }
  [[nodiscard]] size_t size() const { return paths_.size(); }
  [[nodiscard]] size_t rule_count() const { return begins_.empty() ? 0 : begins_.size() - 1; }

 private:
  std::vector<RulePath> paths_;
  std::vector<uint32_t> begins_;  // rule i's paths are [begins_[i], begins_[i + 1])
};

// How compile() turns exact paths into file identities; a seam for tests.
class FileResolver {
 public:
  virtual ~FileResolver() = default;
  // stat(2) following symlinks; nullopt when the path does not exist (or cannot be reached).
  [[nodiscard]] virtual std::optional<FileId> identity(const std::string& path) const = 0;
  // realpath(3); the input unchanged when it cannot be resolved.
  [[nodiscard]] virtual std::string canonical(const std::string& path) const = 0;
  // The existing paths an absolute glob without "**" matches, sorted.
  [[nodiscard]] virtual std::vector<std::string> expand(const std::string& glob) const = 0;
  // canonical() and identity() of each path, in order; a resolver may share work between them.
  [[nodiscard]] virtual std::vector<ResolvedPath> resolve(std::vector<std::string> paths) const;
};

// The real file system. A path root is refused because it lies on a FUSE mount of another user
// is stat()ed as that user (common/fuse_owner.h).
class SystemFileResolver final : public FileResolver {
 public:
  std::optional<FileId> identity(const std::string& path) const override;
  std::string canonical(const std::string& path) const override;
  std::vector<std::string> expand(const std::string& glob) const override;
  // Each directory once (realpath), then one lstat per file (system_resolve.cpp).
  std::vector<ResolvedPath> resolve(std::vector<std::string> paths) const override;
};

// A declared agent's files as found when the policy was compiled: its exact paths and what its
// globs matched. A glob ending in "/*" names the directories its other part matched: every file
// in one of them, now or later, is the agent's.
struct ResolvedAgent {
  std::vector<ResolvedPath> files;
  std::vector<ResolvedPath> dirs;
};

class Policy {
 public:
  virtual ~Policy() = default;

  // Never fails on a RuleSet the parser accepted, except on resource limits.
  [[nodiscard]] static Result<std::shared_ptr<const Policy>> compile(RuleSet rules,
                                                                     const FileResolver& resolver);

  // The first rule (in precedence order) whose every predicate holds, else default_action.
  //
  // When ctx.unknown names facts the daemon could not establish, each predicate holds, fails, or
  // might hold (it reads an unknown fact; see Unknown for what stays known). A rule holds when
  // all its predicates hold, fails when one fails, else might hold. The possible outcomes are
  // those of the rules that might hold, in precedence order, up to the first rule that holds, and
  // that rule's (else default_action's). The decision is the strictest of them (by strictness());
  // on a tie, the rule that holds (or the default) wins over the ones that might, and otherwise
  // the earlier rule. Decision::uncertain is set when a rule that might hold was chosen.
  //
  // Allocation-free (after a thread's first evaluations) and lock-free; safe to call from many
  // threads at once.
  [[nodiscard]] virtual Decision evaluate(const ExecContext& ctx) const = 0;

  [[nodiscard]] virtual uint32_t needs() const = 0;  // Need bits
  [[nodiscard]] virtual const RuleSet& rule_set() const = 0;
  // resolved_paths().of(i)[j] is rule_set().rules[i].match.paths[j], resolved.
  [[nodiscard]] virtual const RulePaths& resolved_paths() const = 0;
  // resolved_agents()[i] is rule_set().agents[i], resolved.
  [[nodiscard]] virtual const std::vector<ResolvedAgent>& resolved_agents() const = 0;
};

// fn(rule index, path as written, what it resolved to) for every exact path of every rule of the
// policy, in rule order.
template <class Fn>
void for_each_rule_path(const Policy& policy, Fn&& fn) {
  const std::vector<Rule>& rules = policy.rule_set().rules;
  const RulePaths& resolved = policy.resolved_paths();
  for (size_t i = 0; i < rules.size() && i < resolved.rule_count(); ++i) {
    const std::vector<std::string>& written = rules[i].match.paths;
    const std::span<const RulePath> paths = resolved.of(i);
    for (size_t j = 0; j < written.size() && j < paths.size(); ++j) {
      fn(i, written[j], paths[j]);
    }
  }
}

}  // namespace cmdgate::rules
