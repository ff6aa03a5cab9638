#include "rules/reference_evaluator.h"

#include <re2/re2.h>

#include <algorithm>
#include <memory>
#include <mutex>
#include <string>
#include <unordered_map>

#include "rules/glob.h"
#include "rules/regex_options.h"
#include "rules/tri.h"

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

template <typename List, typename Pred>
bool any(const List& v, Pred pred) {
  return std::any_of(v.begin(), v.end(), pred);
}

// A predicate over a fact: unknown when `unknown`, else whether `holds`.
template <typename Pred>
Tri over(bool unknown, Pred holds) {
  return unknown ? Tri::kMaybe : known(holds());
}

// A predicate over the part of a fact that is known: a match there holds whatever the rest is.
Tri partly_known(bool unknown_rest, bool holds) {
  return holds ? Tri::kYes : unknown_rest ? Tri::kMaybe : Tri::kNo;
}

Tri holds(const RuleSet& rules, const Match& m, std::span<const RulePath> resolved,
          const ExecContext& ctx) {
  const auto unknown = [&](uint32_t bits) { return (ctx.unknown & bits) != 0; };
  const bool file_unknown = unknown(kUnknownFile);
  Tri t = Tri::kYes;
  const auto both = [&t](Tri v) { t = std::min(t, v); };

  // One `path` predicate: exact paths (by identity) and globs are alternatives.
  if (!m.paths.empty() || !m.path_globs.empty()) {
    if (file_unknown) {
      // An exact path that named no file when the policy was compiled matches no file at all.
      const bool can_match =
          !m.path_globs.empty() || any(resolved, [](const RulePath& p) { return p.id; });
      both(can_match ? Tri::kMaybe : Tri::kNo);
    } else {
      // An unknown path leaves the globs open; the identity still decides the exact paths.
      const bool exact =
          any(resolved, [&](const RulePath& p) { return p.id && *p.id == ctx.file; });
      both(unknown(kUnknownPath)
               ? partly_known(!m.path_globs.empty(), exact)
               : known(exact || any(m.path_globs,
                                    [&](const std::string& g) { return glob_matches(g, ctx.path); })));
    }
  }
  if (!m.sha256.empty()) {
    both(over(unknown(kUnknownFile | kUnknownSha256), [&] {
      return ctx.sha256 != nullptr &&
             any(m.sha256, [&](const Sha256& h) { return h == *ctx.sha256; });
    }));
  }
  if (m.file_kinds != 0) {
    both(over(file_unknown, [&] { return (ctx.file_kinds & m.file_kinds) != 0; }));
  }
  if (m.trust != 0) {
    both(over(unknown(kUnknownFile | kUnknownTrust), [&] { return (ctx.trust & m.trust) != 0; }));
  }
  // Cut argv: a match of the known part proves nothing, since a cut element might end otherwise.
  if (!m.args.empty()) {
    both(over(unknown(kUnknownArgv), [&] {
      return any(m.args, [&](const std::string& re) {
        return ctx.argv.size() > 1 &&
               std::any_of(ctx.argv.begin() + 1, ctx.argv.end(),
                           [&](std::string_view arg) { return search(re, arg); });
      });
    }));
  }
  if (!m.cmdline.empty()) {
    both(over(unknown(kUnknownArgv), [&] {
      return any(m.cmdline, [&](const std::string& re) { return search(re, ctx.cmdline); });
    }));
  }
  if (!m.uids.empty()) {
    both(known(any(m.uids, [&](uint32_t u) { return u == ctx.uid; })));
  }
  if (!m.gids.empty()) {
    const bool listed = any(m.gids, [&](uint32_t g) {
      return g == ctx.gid || std::find(ctx.groups.begin(), ctx.groups.end(), g) != ctx.groups.end();
    });
    both(partly_known(unknown(kUnknownGroups), listed));
  }
  if (!m.parent.empty()) {
    const bool recorded = !ctx.lineage.empty() && any(m.parent, [&](const ProcessPattern& p) {
      return process_matches(p, ctx.lineage[0]);
    });
    both(partly_known(unknown(kUnknownLineage), recorded));
  }
  if (!m.ancestor.empty()) {
    const bool recorded = any(m.ancestor, [&](const ProcessPattern& p) {
      return std::any_of(ctx.lineage.begin(), ctx.lineage.end(),
                         [&](const AncestorView& a) { return process_matches(p, a); });
    });
    both(partly_known(unknown(kUnknownLineage), recorded));
  }
  if (m.tty.has_value()) {
    both(known(ctx.tty == *m.tty));
  }
  if (m.has_agent_predicate()) {
    both(partly_known(unknown(kUnknownAgent), (ctx.agents & agent_mask(rules, m.agents)) != 0));
  }
  if (!m.cgroup_globs.empty()) {
    both(over(unknown(kUnknownCgroup), [&] {
      return any(m.cgroup_globs, [&](const std::string& g) { return glob_matches(g, ctx.cgroup); });
    }));
  }
  return t;
}

}  // namespace

Decision evaluate_reference(const RuleSet& rules, const RulePaths& resolved,
                            const ExecContext& ctx) {
  // Every outcome still possible, in precedence order; the last one is certain.
  std::vector<Decision> possible;
  for (size_t i = 0; i < rules.rules.size() && (possible.empty() || possible.back().uncertain);
       ++i) {
    const Rule& rule = rules.rules[i];
    const Tri t = holds(rules, rule.match, resolved.of(i), ctx);
    if (t != Tri::kNo) {
      possible.push_back({rule.action, rule.mode.value_or(rules.mode), &rule, t == Tri::kMaybe});
    }
  }
  if (possible.empty() || possible.back().uncertain) {
    possible.push_back({rules.default_action, rules.mode, nullptr});
  }
  // The strictest; on a tie the certain outcome, then the earlier rule.
  Decision out = possible.back();
  for (const Decision& d : possible) {
    if (d.strictness() > out.strictness()) {
      out = d;
    }
  }
  return out;
}

}  // namespace cmdgate::rules
