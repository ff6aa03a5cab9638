// evaluate_layout_uncertain(): the scan under unknown facts. An unknown fact can make a rule
// possible that no index lookup would return as a candidate, so every rule is tested, in
// precedence order, until one certainly holds. What is known is still answered by the policy's
// indexes and one pass of each matcher; what is unknown is never looked at. Allocation-free once
// the calling thread's marks have grown to the policy's size.

#include <algorithm>

#include "rules/policy_scans.h"
#include "rules/tri.h"

namespace cmdgate::rules {
namespace {

// Separate from the first-match scan's: a thread that never meets an unknown fact never grows
// these.
thread_local scans::Marks t_marks;

class UncertainEvaluation {
 public:
  UncertainEvaluation(const PolicyLayout& p, const ExecContext& ctx)
      : p_(p), ctx_(ctx), scans_(p, ctx, t_marks, t_marks.begin(p)) {}

  UncertainMatch run() {
    if (!unknown(kUnknownFile)) {
      const auto it = p_.by_file_id.find(ctx_.file);
      id_hits_ = it == p_.by_file_id.end() ? Span{} : it->second;
    }
    UncertainMatch out;
    for (uint32_t r = 0; r < p_.rules.size(); ++r) {
      const Tri t = rule(r);
      if (t == Tri::kYes) {
        out.holds = r;
        break;
      }
      if (t == Tri::kMaybe && (out.might_hold == kNoRule ||
                               p_.rules[r].strictness > p_.rules[out.might_hold].strictness)) {
        out.might_hold = r;
      }
    }
    return out;
  }

 private:
  [[nodiscard]] bool unknown(uint32_t bits) const { return (ctx_.unknown & bits) != 0; }

  // Every predicate, cheapest first, until one fails.
  Tri rule(uint32_t r) {
    const CompiledRule& c = p_.rules[r];
    const auto list = [&](unsigned which) { return p_.list(c, which); };
    Tri t = Tri::kYes;
    const auto fails = [&t](Tri v) {
      t = std::min(t, v);
      return v == Tri::kNo;
    };
    if ((c.file_kinds != 0 && fails(file_kinds(c))) || (c.trust != 0 && fails(trust(c))) ||
        (c.has_agent && fails(agent(c))) ||
        (c.tty >= 0 && fails(known(ctx_.tty == (c.tty == 1)))) ||
        (list(kListUids).size != 0 &&
         fails(known(scans::contains(p_.u32_pool, list(kListUids), ctx_.uid)))) ||
        (list(kListGids).size != 0 && fails(groups(c))) ||
        ((c.has_paths || list(kSetPathGlobs).size != 0) && fails(path(r, c))) ||
        (list(kListSha256).size != 0 && fails(sha256(c))) ||
        (list(kSetCgroup).size != 0 && fails(cgroup(c))) ||
        (list(kSetArgs).size != 0 && fails(argv(kSetArgs, list(kSetArgs)))) ||
        (list(kSetCmdline).size != 0 && fails(argv(kSetCmdline, list(kSetCmdline)))) ||
        (c.has_parent && fails(lineage(kSetParentComm, kSetParentExe, c))) ||
        (c.has_ancestor && fails(lineage(kSetAncestorComm, kSetAncestorExe, c)))) {
      return Tri::kNo;
    }
    return t;
  }

  Tri file_kinds(const CompiledRule& c) const {
    return unknown(kUnknownFile) ? Tri::kMaybe : known((ctx_.file_kinds & c.file_kinds) != 0);
  }

  Tri trust(const CompiledRule& c) const {
    return unknown(kUnknownFile | kUnknownTrust) ? Tri::kMaybe : known((ctx_.trust & c.trust) != 0);
  }

  // Label bits are never cleared, so a recorded one holds whatever else is unknown.
  Tri agent(const CompiledRule& c) const {
    if ((ctx_.agents & c.agents) != 0) {
      return Tri::kYes;
    }
    return unknown(kUnknownAgent) ? Tri::kMaybe : Tri::kNo;
  }

  // The real gid is known even when the supplementary groups are not.
  Tri groups(const CompiledRule& c) const {
    if (scans::gid_holds(p_, ctx_, p_.list(c, kListGids))) {
      return Tri::kYes;
    }
    return unknown(kUnknownGroups) ? Tri::kMaybe : Tri::kNo;
  }

  Tri path(uint32_t r, const CompiledRule& c) {
    const Span globs = p_.list(c, kSetPathGlobs);
    if (unknown(kUnknownFile)) {
      // An exact path that named no file when the policy was compiled matches no file at all.
      return c.has_resolved_paths || globs.size != 0 ? Tri::kMaybe : Tri::kNo;
    }
    const bool exact = c.has_paths && scans::contains(p_.rule_lists, id_hits_, r);
    if (unknown(kUnknownPath)) {
      // The identity still decides the exact paths; the globs stay open.
      return exact ? Tri::kYes : globs.size != 0 ? Tri::kMaybe : Tri::kNo;
    }
    return known(exact || (globs.size != 0 && scans_.any_matched(kSetPathGlobs, globs)));
  }

  Tri sha256(const CompiledRule& c) const {
    return unknown(kUnknownFile | kUnknownSha256)
               ? Tri::kMaybe
               : known(scans::sha256_holds(p_, ctx_, p_.list(c, kListSha256)));
  }

  Tri cgroup(const CompiledRule& c) {
    return unknown(kUnknownCgroup) ? Tri::kMaybe
                                   : known(scans_.any_matched(kSetCgroup, p_.list(c, kSetCgroup)));
  }

  // A cut argument or command line might end differently, so even a match of the known part
  // proves nothing.
  Tri argv(MatchSet set, Span ids) {
    return unknown(kUnknownArgv) ? Tri::kMaybe : known(scans_.any_matched(set, ids));
  }

  // Recorded ancestors are real, so a match among them holds; their absence proves nothing when
  // the lineage is incomplete.
  Tri lineage(MatchSet comm, MatchSet exe, const CompiledRule& c) {
    if (scans_.any_matched(comm, p_.list(c, comm)) || scans_.any_matched(exe, p_.list(c, exe))) {
      return Tri::kYes;
    }
    return unknown(kUnknownLineage) ? Tri::kMaybe : Tri::kNo;
  }

  const PolicyLayout& p_;
  const ExecContext& ctx_;
  scans::Scans scans_;
  Span id_hits_;
};

}  // namespace

UncertainMatch evaluate_layout_uncertain(const PolicyLayout& layout, const ExecContext& ctx) {
  return UncertainEvaluation(layout, ctx).run();
}

}  // namespace cmdgate::rules
