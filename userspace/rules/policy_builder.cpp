// build_layout(): RuleSet -> PolicyLayout (see policy_layout.h for the design).

#include <algorithm>
#include <future>
#include <map>

#include "rules/glob_set_matcher.h"
#include "rules/policy_layout.h"

namespace cmdgate::rules {
namespace {

// Distinct pattern texts of one slot, numbered in order of first use.
class PatternTable {
 public:
  uint32_t intern(const std::string& text) {
    auto [it, inserted] = ids_.try_emplace(text, static_cast<uint32_t>(texts_.size()));
    if (inserted) {
      texts_.push_back(text);
    }
    return it->second;
  }
  [[nodiscard]] const std::vector<std::string>& texts() const { return texts_; }

 private:
  std::unordered_map<std::string, uint32_t> ids_;
  std::vector<std::string> texts_;
};

Span append(std::vector<uint32_t>& pool, const std::vector<uint32_t>& list) {
  const Span s{static_cast<uint32_t>(pool.size()), static_cast<uint32_t>(list.size())};
  pool.insert(pool.end(), list.begin(), list.end());
  return s;
}

Span append_sorted(std::vector<uint32_t>& pool, std::vector<uint32_t> values) {
  std::sort(values.begin(), values.end());
  values.erase(std::unique(values.begin(), values.end()), values.end());
  return append(pool, values);
}

// Appends r unless it is already last: rules are added in order, so lists stay sorted.
void add_rule(std::vector<uint32_t>& list, uint32_t r) {
  if (list.empty() || list.back() != r) {
    list.push_back(r);
  }
}

// Rule lists keyed by K, flattened into the rule_lists pool at the end.
template <typename K>
class Index {
 public:
  void add(const K& key, uint32_t r) { add_rule(lists_[key], r); }
  template <typename Map>
  void flatten_into(std::vector<uint32_t>& pool, Map& out) const {
    for (const auto& [key, list] : lists_) {
      out.emplace(key, append(pool, list));
    }
  }

 private:
  std::map<K, std::vector<uint32_t>> lists_;  // ordered: a deterministic layout
};

Anchor choose_anchor(const Match& m) {
  const std::array<std::pair<bool, Anchor>, kAnchorKinds - 1> order = {{
      {!m.paths.empty(), Anchor::kPath},
      {!m.sha256.empty(), Anchor::kSha256},
      {!m.path_globs.empty(), Anchor::kGlob},
      {m.file_kinds != 0, Anchor::kFileKind},
      {!m.args.empty(), Anchor::kArgs},
      {!m.cmdline.empty(), Anchor::kCmdline},
      {!m.parent.empty(), Anchor::kParent},
      {!m.ancestor.empty(), Anchor::kAncestor},
      {!m.cgroup_globs.empty(), Anchor::kCgroup},
      {!m.uids.empty(), Anchor::kUid},
      {!m.gids.empty(), Anchor::kGid},
      {m.tty.has_value(), Anchor::kTty},
  }};
  for (const auto& [present, anchor] : order) {
    if (present) {
      return anchor;
    }
  }
  return Anchor::kNone;
}

uint32_t needs_of(const Match& m) {
  uint32_t n = 0;
  if (!m.sha256.empty()) {
    n |= kNeedSha256;
  }
  if (m.trust != 0) {
    n |= kNeedTrust;
  }
  if (!m.gids.empty()) {
    n |= kNeedGroups;
  }
  if (!m.cgroup_globs.empty()) {
    n |= kNeedCgroup;
  }
  for (const auto* patterns : {&m.parent, &m.ancestor}) {
    for (const ProcessPattern& p : *patterns) {
      if (p.is_path) {
        n |= kNeedLineagePaths;
      }
    }
  }
  return n;
}

uint32_t unknowns_read_by(const Match& m) {
  uint32_t u = 0;
  if (m.has_file_predicate()) {
    u |= kUnknownFile;
  }
  if (!m.path_globs.empty()) {
    u |= kUnknownPath;
  }
  if (!m.sha256.empty()) {
    u |= kUnknownSha256;
  }
  if (m.trust != 0) {
    u |= kUnknownTrust;
  }
  if (!m.args.empty() || !m.cmdline.empty()) {
    u |= kUnknownArgv;
  }
  if (!m.gids.empty()) {
    u |= kUnknownGroups;
  }
  if (!m.cgroup_globs.empty()) {
    u |= kUnknownCgroup;
  }
  if (!m.parent.empty() || !m.ancestor.empty()) {
    u |= kUnknownLineage;
  }
  if (m.has_agent_predicate()) {
    u |= kUnknownAgent;
  }
  return u;
}

class Builder {
 public:
  Builder(const RuleSet& rules, const RulePaths& resolved, MatchEngine engine)
      : rules_(rules), resolved_(resolved), engine_(engine) {}

  Result<PolicyLayout> build(LayoutStats* stats) {
    if (rules_.rules.size() >= kNoRule) {
      return Error::format("{} rules: too many", rules_.rules.size());
    }
    if (resolved_.rule_count() != rules_.rules.size()) {
      return Error::format("{} resolved path lists for {} rules", resolved_.rule_count(),
                           rules_.rules.size());
    }
    out_.rules.reserve(rules_.rules.size());
    for (size_t i = 0; i < rules_.rules.size(); ++i) {
      add(static_cast<uint32_t>(i), stats);
    }
    flatten_indexes();
    if (Status s = build_matchers(stats); !s.ok()) {
      return s.error();
    }
    lay_out_marks();
    return std::move(out_);
  }

 private:
  std::vector<uint32_t> intern(Slot slot, const std::vector<std::string>& texts) {
    std::vector<uint32_t> ids;
    for (const std::string& t : texts) {
      ids.push_back(tables_[slot].intern(t));
    }
    return ids;
  }

  // Splits process patterns into comm and exe pattern ids.
  void intern_process(const std::vector<ProcessPattern>& patterns, std::vector<uint32_t>& comm,
                      std::vector<uint32_t>& exe) {
    for (const ProcessPattern& p : patterns) {
      (p.is_path ? exe : comm).push_back(tables_[p.is_path ? kSlotExe : kSlotComm].intern(p.text));
    }
  }

  void add(uint32_t r, LayoutStats* stats) {
    const Rule& rule = rules_.rules[r];
    const Match& m = rule.match;
    std::array<std::vector<uint32_t>, kMatchSetCount> ids;
    ids[kSetPathGlobs] = intern(kSlotPath, m.path_globs);
    ids[kSetArgs] = intern(kSlotArgs, m.args);
    ids[kSetCmdline] = intern(kSlotCmdline, m.cmdline);
    ids[kSetCgroup] = intern(kSlotCgroup, m.cgroup_globs);
    intern_process(m.parent, ids[kSetParentComm], ids[kSetParentExe]);
    intern_process(m.ancestor, ids[kSetAncestorComm], ids[kSetAncestorExe]);

    std::array<Span, kRuleListCount> lists;
    for (size_t set = 0; set < kMatchSetCount; ++set) {
      lists[set] = append_sorted(out_.u32_pool, ids[set]);
    }
    lists[kListUids] = append_sorted(out_.u32_pool, m.uids);
    lists[kListGids] = append_sorted(out_.u32_pool, m.gids);
    std::vector<Sha256> sha = m.sha256;
    std::sort(sha.begin(), sha.end());
    sha.erase(std::unique(sha.begin(), sha.end()), sha.end());
    lists[kListSha256] = {static_cast<uint32_t>(out_.sha256_pool.size()),
                          static_cast<uint32_t>(sha.size())};
    out_.sha256_pool.insert(out_.sha256_pool.end(), sha.begin(), sha.end());

    CompiledRule c;
    c.lists_begin = static_cast<uint32_t>(out_.list_spans.size());
    for (size_t i = 0; i < kRuleListCount; ++i) {
      if (lists[i].size != 0) {
        c.lists = static_cast<uint16_t>(c.lists | (1u << i));
        out_.list_spans.push_back(lists[i]);
      }
    }
    c.file_kinds = m.file_kinds;
    c.trust = m.trust;
    c.tty = m.tty.has_value() ? static_cast<int8_t>(*m.tty) : int8_t{-1};
    c.has_paths = !m.paths.empty();
    c.has_resolved_paths =
        std::ranges::any_of(resolved_.of(r), [](const RulePath& p) { return p.id.has_value(); });
    c.has_parent = !m.parent.empty();
    c.has_ancestor = !m.ancestor.empty();
    c.has_agent = m.has_agent_predicate();
    c.agents = agent_mask(rules_, m.agents);
    c.strictness = Decision{rule.action, rule.mode.value_or(rules_.mode)}.strictness();
    out_.rules.push_back(c);
    out_.needs |= needs_of(m);
    out_.unknowns_read |= unknowns_read_by(m);

    // Paths rank first, so every rule with paths is anchored on them: the path indexes can
    // answer both "which rules are candidates" and "does this rule's path predicate hold".
    for (const RulePath& p : resolved_.of(r)) {
      if (p.id) {
        by_file_id_.add(*p.id, r);
      }
    }
    const Anchor anchor = choose_anchor(m);
    if (stats != nullptr) {
      ++stats->anchored[static_cast<size_t>(anchor)];
    }
    switch (anchor) {
      case Anchor::kPath:
        // Globs in the same `path` list are alternatives: a glob match makes it a candidate too.
        if (!m.path_globs.empty()) {
          anchor_on(kSetPathGlobs, ids, r);
        }
        break;
      case Anchor::kSha256:
        for (const Sha256& h : sha) {
          by_sha256_.add(h, r);
        }
        break;
      case Anchor::kFileKind:
        for (size_t bit = 0; bit < by_file_kind_.size(); ++bit) {
          if ((m.file_kinds & (1u << bit)) != 0) {
            add_rule(by_file_kind_[bit], r);
          }
        }
        break;
      case Anchor::kGlob:
        anchor_on(kSetPathGlobs, ids, r);
        break;
      case Anchor::kArgs:
        anchor_on(kSetArgs, ids, r);
        break;
      case Anchor::kCmdline:
        anchor_on(kSetCmdline, ids, r);
        break;
      case Anchor::kCgroup:
        anchor_on(kSetCgroup, ids, r);
        break;
      case Anchor::kParent:
        anchor_on(kSetParentComm, ids, r);
        anchor_on(kSetParentExe, ids, r);
        break;
      case Anchor::kAncestor:
        anchor_on(kSetAncestorComm, ids, r);
        anchor_on(kSetAncestorExe, ids, r);
        break;
      case Anchor::kUid:
        for (uint32_t uid : m.uids) {
          by_uid_.add(uid, r);
        }
        break;
      case Anchor::kGid:
        for (uint32_t gid : m.gids) {
          by_gid_.add(gid, r);
        }
        break;
      case Anchor::kTty:
        add_rule(by_tty_[*m.tty ? 1 : 0], r);
        break;
      case Anchor::kNone:
        add_rule(unanchored_, r);
        break;
    }
  }

  void anchor_on(MatchSet set, const std::array<std::vector<uint32_t>, kMatchSetCount>& ids,
                 uint32_t r) {
    std::vector<std::vector<uint32_t>>& lists = anchored_[set];
    for (uint32_t id : ids[set]) {
      if (lists.size() <= id) {
        lists.resize(id + 1);
      }
      add_rule(lists[id], r);
      out_.sets[set].first_anchored = std::min(out_.sets[set].first_anchored, r);
    }
  }

  void flatten_indexes() {
    std::vector<uint32_t>& pool = out_.rule_lists;
    by_file_id_.flatten_into(pool, out_.by_file_id);
    by_sha256_.flatten_into(pool, out_.by_sha256);
    by_uid_.flatten_into(pool, out_.by_uid);
    by_gid_.flatten_into(pool, out_.by_gid);
    for (size_t i = 0; i < 2; ++i) {
      out_.by_file_kind[i] = append(pool, by_file_kind_[i]);
      out_.by_tty[i] = append(pool, by_tty_[i]);
    }
    out_.unanchored = append(pool, unanchored_);
    for (size_t set = 0; set < kMatchSetCount; ++set) {
      MatchSetLayout& s = out_.sets[set];
      s.anchored.resize(tables_[slot_of(static_cast<MatchSet>(set))].texts().size());
      for (size_t id = 0; id < anchored_[set].size(); ++id) {
        s.anchored[id] = append(pool, anchored_[set][id]);
      }
    }
  }

  // Each slot is its own database, so they compile concurrently: Hyperscan takes about a
  // millisecond per non-literal pattern, and a large policy has tens of thousands.
  Status build_matchers(LayoutStats* stats) {
    using Built = Result<std::unique_ptr<PatternMatcher>>;
    std::array<std::future<Built>, kSlotCount> pending;
    for (size_t slot = 0; slot < kSlotCount; ++slot) {
      if (!tables_[slot].texts().empty()) {
        pending[slot] =
            std::async(std::launch::async, [this, slot] { return build_matcher(slot); });
      }
    }
    Status status;
    for (size_t slot = 0; slot < kSlotCount; ++slot) {
      if (!pending[slot].valid()) {
        continue;
      }
      Built m = pending[slot].get();  // wait for every task before returning
      if (!m.ok()) {
        status = m.error();
        continue;
      }
      if (stats != nullptr) {
        stats->patterns += (*m)->stats();
      }
      out_.slots[slot] = {std::move(m).value(),
                          static_cast<uint32_t>(tables_[slot].texts().size())};
    }
    return status;
  }

  Result<std::unique_ptr<PatternMatcher>> build_matcher(size_t slot) const {
    const std::vector<std::string>& texts = tables_[slot].texts();
    if (slot == kSlotArgs || slot == kSlotCmdline) {
      return make_pattern_matcher(engine_, texts, PatternFlavor::kRegex);
    }
    auto m = GlobSetMatcher::create(texts, engine_);
    if (!m.ok()) {
      return m.error();
    }
    return std::unique_ptr<PatternMatcher>(std::move(m).value());
  }

  void lay_out_marks() {
    uint32_t next = 0;
    for (size_t set = 0; set < kMatchSetCount; ++set) {
      MatchSetLayout& s = out_.sets[set];
      s.stamp_base = s.matched_base = next;  // same size: one slot per pattern in each
      next += out_.slots[slot_of(static_cast<MatchSet>(set))].pattern_count;
    }
    out_.stamp_count = next;
    out_.matched_count = next;
  }

  const RuleSet& rules_;
  const RulePaths& resolved_;
  MatchEngine engine_;
  PolicyLayout out_;
  std::array<PatternTable, kSlotCount> tables_;
  std::array<std::vector<std::vector<uint32_t>>, kMatchSetCount> anchored_;
  Index<FileId> by_file_id_;
  Index<Sha256> by_sha256_;
  Index<uint32_t> by_uid_;
  Index<uint32_t> by_gid_;
  std::array<std::vector<uint32_t>, 2> by_file_kind_;
  std::array<std::vector<uint32_t>, 2> by_tty_;
  std::vector<uint32_t> unanchored_;
};

}  // namespace

Result<PolicyLayout> build_layout(const RuleSet& rules, const RulePaths& resolved,
                                  MatchEngine engine, LayoutStats* stats) {
  return Builder(rules, resolved, engine).build(stats);
}

}  // namespace cmdgate::rules
