#include "rules/kernel_verdicts.h"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <map>
#include <memory>
#include <set>
#include <tuple>

#include "rules/glob.h"
#include "rules/tri.h"

namespace cmdgate::rules {
namespace {

// A path-trie entry: the literal prefix of some path glob.
struct Region {
  std::string prefix;
  friend auto operator<=>(const Region&, const Region&) = default;
};

enum class Identity : uint8_t {
  kKnown,          // facts.file is the file
  kNotRuleTarget,  // not any file an exact-path rule resolved to
  kAnyScript,      // some #! script: only rule targets that are scripts could be it
  kAnyMemfd,       // some memfd: only rule targets that resolved to a memfd could be it
  kUnknown,
};

enum class PathKnowledge : uint8_t { kUnknown, kOutsideRegions, kInRegion };

struct Facts {
  Identity identity = Identity::kUnknown;
  FileId file;
  const Sha256* sha256 = nullptr;  // known content
  PathKnowledge path = PathKnowledge::kUnknown;
  const Region* region = nullptr;  // when kInRegion: the longest registered entry covering it
  std::optional<uint8_t> kinds;    // known FileKind bits
  std::optional<uint8_t> trust;    // known Trust bits (the daemon's; never the kernel's)
  // The process carries an agent label or its label is unknown: `agent` rules may match. Else
  // it is known to carry none, and none can.
  bool labelled = false;
};

// The outcome set of a three-valued first-match scan, collapsed to one kernel verdict.
class Outcomes {
 public:
  void add(KernelVerdict v) {
    switch (v) {
      case KernelVerdict::kAllow:
        allow_ = true;
        break;
      case KernelVerdict::kAudit:
        audit_ = true;
        break;
      case KernelVerdict::kDeny:
        deny_ = true;
        break;
      default:
        evaluate_ = true;
        break;
    }
  }
  [[nodiscard]] KernelVerdict verdict() const {
    if (evaluate_ || (deny_ && (allow_ || audit_))) {
      return KernelVerdict::kEvaluate;
    }
    if (deny_) {
      return KernelVerdict::kDeny;
    }
    return audit_ ? KernelVerdict::kAudit : KernelVerdict::kAllow;
  }

 private:
  bool allow_ = false;
  bool audit_ = false;
  bool evaluate_ = false;
  bool deny_ = false;
};

KernelVerdict outcome_class(Action a, Mode m) {
  if (m == Mode::kMonitor && a >= Action::kAsk) {
    return KernelVerdict::kAudit;
  }
  switch (a) {
    case Action::kAllow:
      return KernelVerdict::kAllow;
    case Action::kAudit:
      return KernelVerdict::kAudit;
    case Action::kAsk:
      return KernelVerdict::kEvaluate;
    case Action::kDeny:
      return KernelVerdict::kDeny;
  }
  return KernelVerdict::kEvaluate;
}

}  // namespace

class Analyzer {
 public:
  Analyzer(const Policy& policy, const ShebangProbe* is_script, std::set<Region> regions,
           bool tell_denials)
      : tell_denials_(tell_denials),
        policy_(policy),
        rules_(policy.rule_set()),
        resolved_(policy.resolved_paths()),
        regions_(std::move(regions)) {
    for_each_rule_path(policy, [&](size_t i, const std::string& written, const RulePath& rp) {
      if (rp.id) {
        targets_.insert(*rp.id);
        by_target_[*rp.id].push_back(i);
        if (is_script != nullptr && (*is_script)(rp.canonical(written))) {
          script_targets_.insert(*rp.id);
        }
      }
    });
    glob_begins_.reserve(rules_.rules.size());
    for (size_t i = 0; i < rules_.rules.size(); ++i) {
      const Match& m = rules_.rules[i].match;
      glob_begins_.push_back(static_cast<uint32_t>(glob_prefixes_.size()));
      for (const std::string& g : m.path_globs) {
        glob_prefixes_.push_back({glob_literal_prefix(g), glob_is_pure_prefix(g)});
      }
      // A rule whose path predicate is exact paths alone says No to every file that is not one
      // of them: scans over a known file visit it only through by_target_.
      if (m.paths.empty() || !m.path_globs.empty()) {
        unbound_.push_back(i);
      }
      // ...unless it holds tools (held_tools.h): then, for a labelled process, a file of
      // unknown content may be a copy of one. A known file reaches here only once the daemon
      // has compared its content, so by_target_ still covers it.
      if (m.has_agent_predicate() && std::ranges::any_of(resolved_.of(i), [](const RulePath& rp) {
            return rp.id.has_value();
          })) {
        holds_tools_.push_back(i);
      }
    }
  }

  // A first-match scan over the rules that can match f, in rule order. Once the outcomes say
  // EVALUATE no later rule can change that, so the scan stops there: with 100k rules this is
  // what keeps deriving the kernel maps from being quadratic.
  [[nodiscard]] KernelVerdict scan(const Facts& f) {
    Outcomes out;
    const auto visit = [&](size_t i) {
      const Rule& r = rules_.rules[i];
      const Tri t = rule_matches(i, r, f);
      if (t == Tri::kNo) {
        return false;
      }
      KernelVerdict c = outcome_class(r.action, r.mode.value_or(rules_.mode));
      if (c == KernelVerdict::kDeny && tell_denials_ && !told(r).empty()) {
        c = KernelVerdict::kEvaluate;
      }
      out.add(c);
      return t == Tri::kYes || out.verdict() == KernelVerdict::kEvaluate;
    };
    if (!walk_candidates(f, visit)) {
      out.add(outcome_class(rules_.default_action, rules_.mode));
    }
    return out.verdict();
  }

  [[nodiscard]] InodeVerdict inode_verdict(Facts f) {
    InodeVerdict v;
    f.labelled = false;
    std::tie(v.verdict, v.check_path) = identity_verdict(f);
    f.labelled = true;
    std::tie(v.agent_verdict, v.agent_check_path) = identity_verdict(f);
    return v;
  }

  [[nodiscard]] const Policy& policy() const { return policy_; }
  [[nodiscard]] const std::set<FileId>& targets() const { return targets_; }
  [[nodiscard]] const std::set<Region>& regions() const { return regions_; }

 private:
  std::pair<KernelVerdict, bool> identity_verdict(Facts f) {
    f.path = PathKnowledge::kOutsideRegions;
    const KernelVerdict outside = scan(f);
    bool check_path = false;
    if (!regions_.empty()) {
      f.path = PathKnowledge::kUnknown;
      check_path = scan(f) != outside;
    }
    return {outside, check_path};
  }

  // Calls visit(i) in rule order for every rule that can match f, until it returns true;
  // returns whether it did.
  template <typename Visit>
  bool walk_candidates(const Facts& f, Visit&& visit) const {
    const std::vector<size_t>* own = nullptr;
    if (f.identity == Identity::kKnown) {
      if (auto it = by_target_.find(f.file); it != by_target_.end()) {
        own = &it->second;
      }
    } else if (f.identity != Identity::kNotRuleTarget) {
      for (size_t i = 0; i < rules_.rules.size(); ++i) {
        if (visit(i)) {
          return true;
        }
      }
      return false;
    } else if (f.labelled) {
      own = &holds_tools_;
    }
    // The unbound rules merged with the file's own (both ascending; a rule may be in both).
    size_t a = 0;
    size_t b = 0;
    const size_t nb = own != nullptr ? own->size() : 0;
    while (a < unbound_.size() || b < nb) {
      size_t i = 0;
      if (b == nb || (a < unbound_.size() && unbound_[a] <= (*own)[b])) {
        i = unbound_[a++];
        if (b < nb && (*own)[b] == i) {
          ++b;
        }
      } else {
        i = (*own)[b++];
      }
      if (visit(i)) {
        return true;
      }
    }
    return false;
  }

  Tri rule_matches(size_t index, const Rule& r, const Facts& f) {
    const Match& m = r.match;
    Tri t = Tri::kYes;
    // One `path` predicate: exact paths and globs are alternatives.
    if (!m.paths.empty() || !m.path_globs.empty()) {
      const bool copy_may_match = f.labelled && m.has_agent_predicate();
      t = tri_or(m.paths.empty() ? Tri::kNo : exact_paths(resolved_.of(index), f, copy_may_match),
                 m.path_globs.empty() ? Tri::kNo : globs(glob_prefixes_of(index), f));
    }
    if (t != Tri::kNo && !m.sha256.empty()) {
      t = tri_and(t, f.sha256 == nullptr
                         ? Tri::kMaybe
                         : known(std::find(m.sha256.begin(), m.sha256.end(), *f.sha256) !=
                                  m.sha256.end()));
    }
    if (t != Tri::kNo && m.file_kinds != 0) {
      t = tri_and(t, f.kinds ? known((*f.kinds & m.file_kinds) != 0) : Tri::kMaybe);
    }
    if (t != Tri::kNo && m.trust != 0) {
      t = tri_and(t, f.trust ? known((*f.trust & m.trust) != 0) : Tri::kMaybe);
    }
    if (t != Tri::kNo && m.has_agent_predicate()) {
      t = tri_and(t, f.labelled ? Tri::kMaybe : Tri::kNo);
    }
    if (t != Tri::kNo && m.has_context_predicate()) {
      t = tri_and(t, Tri::kMaybe);
    }
    return t;
  }

  // Exact paths are identities (policy.h): the path string plays no part. copy_may_match: a
  // file whose content is not known may be a copy of a held tool (held_tools.h); a known file
  // has been compared by the daemon before its verdict is asked for.
  Tri exact_paths(std::span<const RulePath> paths, const Facts& f, bool copy_may_match) const {
    Tri any = Tri::kNo;
    for (const RulePath& rp : paths) {
      if (!rp.id) {
        continue;
      }
      if (copy_may_match && f.identity != Identity::kKnown) {
        return Tri::kMaybe;
      }
      switch (f.identity) {
        case Identity::kKnown:
          any = tri_or(any, known(*rp.id == f.file));
          break;
        case Identity::kNotRuleTarget:
          break;
        case Identity::kAnyScript:
          any = tri_or(any, script_targets_.contains(*rp.id) ? Tri::kMaybe : Tri::kNo);
          break;
        case Identity::kAnyMemfd:
          any = tri_or(any, memfd_targets_.contains(*rp.id) ? Tri::kMaybe : Tri::kNo);
          break;
        case Identity::kUnknown:
          any = tri_or(any, Tri::kMaybe);
          break;
      }
      if (any == Tri::kYes) {
        break;
      }
    }
    return any;
  }

  struct GlobPrefix {
    std::string literal;  // glob_literal_prefix(), computed once per glob
    bool pure = false;    // glob_is_pure_prefix()
  };

  // Rule i's, one per element of its path_globs.
  std::span<const GlobPrefix> glob_prefixes_of(size_t i) const {
    return std::span(glob_prefixes_)
        .subspan(glob_begins_[i], rules_.rules[i].match.path_globs.size());
  }

  static Tri globs(std::span<const GlobPrefix> globs, const Facts& f) {
    Tri any = Tri::kNo;
    for (const GlobPrefix& g : globs) {
      Tri t = Tri::kNo;
      switch (f.path) {
        case PathKnowledge::kUnknown:
          t = Tri::kMaybe;
          break;
        case PathKnowledge::kOutsideRegions:
          t = Tri::kNo;  // every glob's literal prefix is a region
          break;
        case PathKnowledge::kInRegion:
          // The path's longest registered prefix is region->prefix: a glob can match it only
          // if its own literal prefix (also registered) is a prefix of that one.
          if (f.region->prefix.starts_with(g.literal)) {
            t = g.pure ? Tri::kYes : Tri::kMaybe;
          }
          break;
      }
      any = tri_or(any, t);
      if (any == Tri::kYes) {
        break;
      }
    }
    return any;
  }

  const bool tell_denials_;
  const Policy& policy_;
  const RuleSet& rules_;
  const RulePaths& resolved_;
  std::set<Region> regions_;
  std::set<FileId> targets_;
  std::set<FileId> script_targets_;
  std::set<FileId> memfd_targets_;
  std::map<FileId, std::vector<size_t>> by_target_;  // rules naming the file, ascending
  std::vector<size_t> unbound_;  // rules whose path predicate is not exact paths alone
  std::vector<size_t> holds_tools_;  // agent rules with an exact path that resolved
  std::vector<GlobPrefix> glob_prefixes_;  // every rule's, in rule order
  std::vector<uint32_t> glob_begins_;      // where rule i's start
};

namespace {

std::set<Region> collect_regions(const Policy& policy) {
  std::set<Region> regions;
  const RuleSet& rs = policy.rule_set();
  for (const Rule& r : rs.rules) {
    for (const std::string& g : r.match.path_globs) {
      regions.insert({glob_literal_prefix(g)});
    }
  }
  return regions;
}

}  // namespace

bool file_starts_with_shebang(const std::string& path) {
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    return false;
  }
  char head[2] = {};
  const bool script = ::pread(fd, head, sizeof(head), 0) == 2 && head[0] == '#' && head[1] == '!';
  ::close(fd);
  return script;
}

KernelVerdict kernel_class(const Decision& d) { return outcome_class(d.action, d.mode); }

KernelVerdicts::KernelVerdicts(const Policy& policy, const ShebangProbe& is_script,
                               bool tell_denials)
    : analyzer_(std::make_unique<Analyzer>(policy, &is_script, collect_regions(policy),
                                           tell_denials)) {}

KernelVerdicts::~KernelVerdicts() = default;

namespace {

struct ClassVerdicts {
  KernelVerdict memfd = KernelVerdict::kNone;
  KernelVerdict deleted = KernelVerdict::kNone;
  KernelVerdict script = KernelVerdict::kNone;
  KernelVerdict loader = KernelVerdict::kNone;
  KernelVerdict outside = KernelVerdict::kNone;  // the default: no entry, no region
};

ClassVerdicts class_verdicts(Analyzer& a, bool labelled) {
  ClassVerdicts v;
  Facts memfd;
  memfd.identity = Identity::kAnyMemfd;
  memfd.kinds = kFileMemfd;
  memfd.labelled = labelled;
  v.memfd = a.scan(memfd);

  Facts deleted;
  deleted.identity = Identity::kUnknown;  // could be a rule's file, unlinked since
  deleted.kinds = kFileDeleted;
  deleted.labelled = labelled;
  v.deleted = a.scan(deleted);

  Facts script;
  script.identity = Identity::kAnyScript;
  script.kinds = 0;
  script.labelled = labelled;
  v.script = a.scan(script);

  // Any file at all, of any kind, anywhere: the program a loader is told to run. DENY cannot be
  // taken for every loader exec on that account (it may run nothing): the daemon looks.
  Facts any;
  any.identity = Identity::kUnknown;
  any.labelled = labelled;
  v.loader = a.scan(any);
  if (v.loader == KernelVerdict::kDeny) {
    v.loader = KernelVerdict::kEvaluate;
  } else if (v.loader == KernelVerdict::kAllow) {
    v.loader = KernelVerdict::kNone;
  }

  Facts outside;
  outside.identity = Identity::kNotRuleTarget;
  outside.path = PathKnowledge::kOutsideRegions;
  outside.kinds = 0;
  outside.labelled = labelled;
  v.outside = a.scan(outside);
  return v;
}

// A glob's literal part, and whether the glob is that part and a trailing '*' alone.
std::pair<std::string, bool> name_pattern(const std::string& pattern) {
  if (pattern.ends_with('*')) {
    return {pattern.substr(0, pattern.size() - 1), true};
  }
  return {pattern, false};
}

void add_agents(const Policy& policy, KernelPolicy& kp) {
  const RuleSet& rs = policy.rule_set();
  const auto& resolved = policy.resolved_agents();
  kp.has_agents = !rs.agents.empty();
  for (size_t i = 0; i < rs.agents.size(); ++i) {
    const AgentDecl& a = rs.agents[i];
    const uint64_t bit = uint64_t{1} << a.bit;
    if (i < resolved.size()) {
      for (const ResolvedPath& f : resolved[i].files) {
        if (f.id) {
          kp.agent_files.push_back({*f.id, bit});
        }
      }
      for (const ResolvedPath& d : resolved[i].dirs) {
        if (d.id) {
          kp.agent_dirs.push_back({*d.id, bit});
        }
      }
    }
    for (const std::string& c : a.comms) {
      auto [name, prefix] = name_pattern(c);
      kp.agent_names.push_back({AgentNameKind::kComm, std::move(name), prefix, bit});
    }
    for (const std::string& u : a.units) {
      auto [name, prefix] = name_pattern(u);
      kp.agent_names.push_back({AgentNameKind::kUnit, std::move(name), prefix, bit});
    }
  }
}

}  // namespace

KernelPolicy KernelVerdicts::policy() const {
  Analyzer& a = *analyzer_;
  KernelPolicy kp;

  const ClassVerdicts plain = class_verdicts(a, false);
  const ClassVerdicts agent = class_verdicts(a, true);
  kp.memfd_verdict = plain.memfd;
  kp.deleted_verdict = plain.deleted;
  kp.script_verdict = plain.script;
  kp.loader_verdict = plain.loader;
  kp.default_verdict = plain.outside;
  kp.agent_memfd_verdict = agent.memfd;
  kp.agent_deleted_verdict = agent.deleted;
  kp.agent_script_verdict = agent.script;
  kp.agent_loader_verdict = agent.loader;
  kp.agent_default_verdict = agent.outside;

  for (const Region& r : a.regions()) {
    Facts in;
    in.identity = Identity::kNotRuleTarget;
    in.kinds = 0;
    in.path = PathKnowledge::kInRegion;
    in.region = &r;
    const KernelVerdict unlabelled = a.scan(in);
    in.labelled = true;
    kp.paths.push_back({r.prefix, unlabelled, a.scan(in)});
  }

  for (const FileId& id : a.targets()) {
    Facts f;
    f.identity = Identity::kKnown;
    f.file = id;
    f.kinds = 0;
    kp.inodes.push_back({id, a.inode_verdict(f)});
  }
  add_agents(a.policy(), kp);
  return kp;
}

InodeVerdict KernelVerdicts::learned(const FileId& file, const Sha256* sha256,
                                     std::optional<uint8_t> trust) const {
  Facts f;
  f.identity = Identity::kKnown;
  f.file = file;
  f.sha256 = sha256;
  f.trust = trust;
  f.kinds = 0;
  InodeVerdict v = analyzer_->inode_verdict(f);
  if (v.verdict == KernelVerdict::kEvaluate) {
    v.check_path = false;
  }
  if (v.agent_verdict == KernelVerdict::kEvaluate) {
    v.agent_check_path = false;
  }
  return v;
}

const char* to_string(KernelVerdict v) {
  switch (v) {
    case KernelVerdict::kNone:
      return "none";
    case KernelVerdict::kAllow:
      return "allow";
    case KernelVerdict::kAudit:
      return "audit";
    case KernelVerdict::kEvaluate:
      return "evaluate";
    case KernelVerdict::kDeny:
      return "deny";
  }
  return "?";
}

}  // namespace cmdgate::rules
