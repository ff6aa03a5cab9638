#include "rules/reference_evaluator.h"

#include <re2/re2.h>

#include <algorithm>
#include <memory>
#include <mutex>
#include <string>
#include <unordered_map>

#include "rules/glob.h"
#include "rules/regex_options.h"

namespace cmdgate::rules {
namespace {

// Compiled patterns by text, kept for the life of the process: a test evaluates the same few
// patterns many times. compile_single_re2 (not a bare RE2) because of an RE2 bug; see there.
class PatternCache {
 public:
  const RE2* regex(const std::string& pattern) { return get('r', pattern); }
  const RE2* glob(const std::string& glob) { return get('g', glob); }

 private:
  const RE2* get(char kind, const std::string& text) {
    std::lock_guard lock(mu_);
    auto [it, inserted] = cache_.try_emplace(kind + text);
    if (inserted) {
      if (kind == 'r') {
        it->second = compile_single_re2(text, PatternFlavor::kRegex);
      } else if (auto re = glob_to_regex(text); re.ok()) {  // a malformed glob matches nothing
        it->second = compile_single_re2(*re, PatternFlavor::kGlob);
      }
    }
    return it->second.get();
  }

  std::mutex mu_;
  std::unordered_map<std::string, std::unique_ptr<RE2>> cache_;
};

PatternCache& cache() {
  static PatternCache c;
  return c;
}

bool search(const std::string& pattern, std::string_view text) {
  const RE2* re = cache().regex(pattern);
  return re != nullptr && RE2::PartialMatch(text, *re);
}

bool glob_matches(const std::string& glob, std::string_view text) {
  const RE2* re = cache().glob(glob);  // anchored at both ends by glob_to_regex
  return re != nullptr && RE2::PartialMatch(text, *re);
}

bool process_matches(const ProcessPattern& p, const AncestorView& a) {
  if (p.is_path) {
    return !a.exe_path.empty() && glob_matches(p.text, a.exe_path);
  }
  return glob_matches(p.text, a.comm);
}

template <typename T, typename Pred>
bool any(const std::vector<T>& v, Pred pred) {
  return std::any_of(v.begin(), v.end(), pred);
}

bool holds(const Match& m, const std::vector<ResolvedPath>& resolved, const ExecContext& ctx) {
  // One `path` predicate: exact paths (by identity) and globs are alternatives.
  if (!m.paths.empty() || !m.path_globs.empty()) {
    const bool exact = any(resolved, [&](const ResolvedPath& p) {
      return p.id && *p.id == ctx.file;
    });
    const bool glob =
        any(m.path_globs, [&](const std::string& g) { return glob_matches(g, ctx.path); });
    if (!exact && !glob) {
      return false;
    }
  }
  if (!m.sha256.empty() && (ctx.sha256 == nullptr ||
                            !any(m.sha256, [&](const Sha256& h) { return h == *ctx.sha256; }))) {
    return false;
  }
  if (m.file_kinds != 0 && (ctx.file_kinds & m.file_kinds) == 0) {
    return false;
  }
  if (!m.args.empty() && !any(m.args, [&](const std::string& re) {
        return ctx.argv.size() > 1 &&
               std::any_of(ctx.argv.begin() + 1, ctx.argv.end(),
                           [&](std::string_view arg) { return search(re, arg); });
      })) {
    return false;
  }
  if (!m.cmdline.empty() &&
      !any(m.cmdline, [&](const std::string& re) { return search(re, ctx.cmdline); })) {
    return false;
  }
  if (!m.uids.empty() && !any(m.uids, [&](uint32_t u) { return u == ctx.uid; })) {
    return false;
  }
  if (!m.gids.empty() && !any(m.gids, [&](uint32_t g) {
        return g == ctx.gid ||
               std::find(ctx.groups.begin(), ctx.groups.end(), g) != ctx.groups.end();
      })) {
    return false;
  }
  if (!m.parent.empty() && (ctx.lineage.empty() || !any(m.parent, [&](const ProcessPattern& p) {
                              return process_matches(p, ctx.lineage[0]);
                            }))) {
    return false;
  }
  if (!m.ancestor.empty() && !any(m.ancestor, [&](const ProcessPattern& p) {
        return std::any_of(ctx.lineage.begin(), ctx.lineage.end(),
                           [&](const AncestorView& a) { return process_matches(p, a); });
      })) {
    return false;
  }
  if (m.tty.has_value() && ctx.tty != *m.tty) {
    return false;
  }
  if (!m.cgroup_globs.empty() &&
      !any(m.cgroup_globs, [&](const std::string& g) { return glob_matches(g, ctx.cgroup); })) {
    return false;
  }
  return true;
}

}  // namespace

Decision evaluate_reference(const RuleSet& rules,
                            const std::vector<std::vector<ResolvedPath>>& resolved,
                            const ExecContext& ctx) {
  static const std::vector<ResolvedPath> kNone;
  for (size_t i = 0; i < rules.rules.size(); ++i) {
    const Rule& rule = rules.rules[i];
    if (holds(rule.match, i < resolved.size() ? resolved[i] : kNone, ctx)) {
      return {rule.action, rule.mode.value_or(rules.mode), &rule};
    }
  }
  return {rules.default_action, rules.mode, nullptr};
}

}  // namespace cmdgate::rules
