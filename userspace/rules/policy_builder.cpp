// build_layout(): RuleSet -> PolicyLayout (see policy_layout.h for the design).

#include <algorithm>
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

// Rule lists keyed by K, appended in rule order (so sorted), then flattened into one pool.
template <typename K, typename Map>
class ListBuilder {
 public:
  void add(const K& key, uint32_t rule) {
    std::vector<uint32_t>& list = lists_[key];
    if (list.empty() || list.back() != rule) {
      list.push_back(rule);
    }
  }
  void flatten_into(std::vector<uint32_t>& pool, Map& out) {
    for (auto& [key, list] : lists_) {
      out.emplace(key, append(pool, list));
    }
  }
  static Span append(std::vector<uint32_t>& pool, const std::vector<uint32_t>& list) {
    const Span s{static_cast<uint32_t>(pool.size()), static_cast<uint32_t>(list.size())};
    pool.insert(pool.end(), list.begin(), list.end());
    return s;
  }

 private:
  std::map<K, std::vector<uint32_t>> lists_;  // ordered: deterministic layout
};

Span append_sorted(std::vector<uint32_t>& pool, std::vector<uint32_t> values) {
  std::sort(values.begin(), values.end());
  values.erase(std::unique(values.begin(), values.end()), values.end());
  return ListBuilder<int, std::map<int, Span>>::append(pool, values);
}

Anchor choose_anchor(const Match& m) {
  if (!m.paths.empty()) {
    return Anchor::kPath;
  }
  if (!m.sha256.empty()) {
    return Anchor::kSha256;
  }
  if (!m.path_globs.empty()) {
    return Anchor::kGlob;
  }
  if (m.file_kinds != 0) {
    return Anchor::kFileKind;
  }
  if (!m.args.empty()) {
    return Anchor::kArgs;
  }
  if (!m.cmdline.empty()) {
    return Anchor::kCmdline;
  }
  if (!m.uids.empty()) {
    return Anchor::kUid;
  }
  return Anchor::kNone;
}

uint32_t needs_of(const Match& m) {
  uint32_t n = 0;
  if (!m.sha256.empty()) {
    n |= kNeedSha256;
  }
  if (!m.gids.empty()) {
    n |= kNeedGroups;
  }
  if (!m.cgroup_globs.empty()) {
    n |= kNeedCgroup;
  }
  for (const auto* list : {&m.parent, &m.ancestor}) {
    for (const ProcessPattern& p : *list) {
      if (p.is_path) {
        n |= kNeedLineagePaths;
      }
    }
  }
  return n;
}

class Builder {
 public:
  Builder(const RuleSet& rules, const std::vector<std::vector<ResolvedPath>>& resolved,
          MatchEngine engine)
      : rules_(rules), resolved_(resolved), engine_(engine) {}

  Result<PolicyLayout> build(LayoutStats* stats) {
    if (rules_.rules.size() >= kNoRule) {
      return Error::format("{} rules: too many", rules_.rules.size());
    }
    if (resolved_.size() != rules_.rules.size()) {
      return Error::format("{} resolved path lists for {} rules", resolved_.size(),
                           rules_.rules.size());
    }
    out_.rules.reserve(rules_.rules.size());
    for (size_t i = 0; i < rules_.rules.size(); ++i) {
      add_rule(static_cast<uint32_t>(i), stats);
    }
    flatten_indexes();
    if (Status s = build_matchers(stats); !s.ok()) {
      return s.error();
    }
    lay_out_stamps();
    return std::move(out_);
  }

 private:
  std::vector<uint32_t> ids_in(Slot slot, const std::vector<std::string>& texts) {
    std::vector<uint32_t> ids;
    ids.reserve(texts.size());
    for (const std::string& t : texts) {
      ids.push_back(tables_[slot].intern(t));
    }
    return ids;
  }

  Span process_refs(const std::vector<ProcessPattern>& patterns) {
    std::vector<uint32_t> refs;
    for (const ProcessPattern& p : patterns) {
      refs.push_back(p.is_path ? tables_[kSlotExe].intern(p.text) | kExePatternBit
                               : tables_[kSlotComm].intern(p.text));
    }
    return append_sorted(out_.u32_pool, std::move(refs));
  }

  void add_rule(uint32_t r, LayoutStats* stats) {
    const Match& m = rules_.rules[r].match;
    CompiledRule c;
    std::array<std::vector<uint32_t>, kSlotCount> ids;
    ids[kSlotGlob] = ids_in(kSlotGlob, m.path_globs);
    ids[kSlotArgs] = ids_in(kSlotArgs, m.args);
    ids[kSlotCmdline] = ids_in(kSlotCmdline, m.cmdline);
    ids[kSlotCgroup] = ids_in(kSlotCgroup, m.cgroup_globs);
    for (Slot s : {kSlotGlob, kSlotArgs, kSlotCmdline, kSlotCgroup}) {
      c.patterns[s] = append_sorted(out_.u32_pool, ids[s]);
    }
    c.parent = process_refs(m.parent);
    c.ancestor = process_refs(m.ancestor);
    c.uids = append_sorted(out_.u32_pool, m.uids);
    c.gids = append_sorted(out_.u32_pool, m.gids);
    std::vector<Sha256> sha = m.sha256;
    std::sort(sha.begin(), sha.end());
    sha.erase(std::unique(sha.begin(), sha.end()), sha.end());
    c.sha256 = {static_cast<uint32_t>(out_.sha256_pool.size()), static_cast<uint32_t>(sha.size())};
    out_.sha256_pool.insert(out_.sha256_pool.end(), sha.begin(), sha.end());
    c.file_kinds = m.file_kinds;
    c.tty = m.tty.has_value() ? static_cast<int8_t>(*m.tty) : int8_t{-1};
    c.has_paths = !m.paths.empty();
    out_.rules.push_back(c);
    out_.needs |= needs_of(m);

    // Every rule with paths is in the path indexes (a rule's path test reads them).
    for (const ResolvedPath& p : resolved_[r]) {
      if (p.id) {
        by_file_id_.add(*p.id, r);
      }
      by_path_.add(p.canonical, r);
      if (p.text != p.canonical) {
        by_path_.add(p.text, r);
      }
    }
    const Anchor anchor = choose_anchor(m);
    if (stats != nullptr) {
      ++stats->anchored[static_cast<size_t>(anchor)];
    }
    switch (anchor) {
      case Anchor::kPath:
        break;
      case Anchor::kSha256:
        for (const Sha256& h : sha) {
          by_sha256_.add(h, r);
        }
        break;
      case Anchor::kGlob:
        anchor_on(kSlotGlob, ids[kSlotGlob], r);
        break;
      case Anchor::kFileKind:
        for (size_t bit = 0; bit < out_.by_file_kind.size(); ++bit) {
          if ((m.file_kinds & (1u << bit)) != 0) {
            by_file_kind_[bit].push_back(r);
          }
        }
        break;
      case Anchor::kArgs:
        anchor_on(kSlotArgs, ids[kSlotArgs], r);
        break;
      case Anchor::kCmdline:
        anchor_on(kSlotCmdline, ids[kSlotCmdline], r);
        break;
      case Anchor::kUid:
        for (uint32_t uid : m.uids) {
          by_uid_.add(uid, r);
        }
        break;
      case Anchor::kNone:
        unanchored_.push_back(r);
        break;
    }
  }

  void anchor_on(Slot slot, const std::vector<uint32_t>& ids, uint32_t r) {
    std::vector<std::vector<uint32_t>>& lists = anchored_[slot];
    for (uint32_t id : ids) {
      if (lists.size() <= id) {
        lists.resize(id + 1);
      }
      if (lists[id].empty() || lists[id].back() != r) {
        lists[id].push_back(r);
      }
    }
    out_.slots[slot].first_anchored = std::min(out_.slots[slot].first_anchored, r);
  }

  void flatten_indexes() {
    std::vector<uint32_t>& pool = out_.rule_lists;
    by_file_id_.flatten_into(pool, out_.by_file_id);
    by_path_.flatten_into(pool, out_.by_path);
    by_sha256_.flatten_into(pool, out_.by_sha256);
    by_uid_.flatten_into(pool, out_.by_uid);
    for (size_t bit = 0; bit < by_file_kind_.size(); ++bit) {
      out_.by_file_kind[bit] = append_list(by_file_kind_[bit]);
    }
    out_.unanchored = append_list(unanchored_);
    for (size_t slot = 0; slot < kAnchorSlotCount; ++slot) {
      SlotLayout& s = out_.slots[slot];
      s.anchored.resize(tables_[slot].texts().size());
      for (size_t id = 0; id < anchored_[slot].size(); ++id) {
        s.anchored[id] = append_list(anchored_[slot][id]);
      }
    }
  }

  Span append_list(const std::vector<uint32_t>& list) {
    return ListBuilder<int, std::map<int, Span>>::append(out_.rule_lists, list);
  }

  Status build_matchers(LayoutStats* stats) {
    for (size_t slot = 0; slot < kSlotCount; ++slot) {
      const std::vector<std::string>& texts = tables_[slot].texts();
      if (texts.empty()) {
        continue;
      }
      Result<std::unique_ptr<PatternMatcher>> m = Error{};
      if (slot == kSlotArgs || slot == kSlotCmdline) {
        m = make_pattern_matcher(engine_, texts, PatternFlavor::kRegex);
      } else {
        auto g = GlobSetMatcher::create(texts, engine_);
        m = g.ok() ? Result<std::unique_ptr<PatternMatcher>>(std::move(g).value())
                   : Result<std::unique_ptr<PatternMatcher>>(g.error());
      }
      if (!m.ok()) {
        return m.error();
      }
      out_.slots[slot].matcher = std::move(m).value();
      out_.slots[slot].pattern_count = static_cast<uint32_t>(texts.size());
      if (stats != nullptr) {
        stats->patterns += out_.slots[slot].matcher->stats();
      }
    }
    return {};
  }

  void lay_out_stamps() {
    uint32_t next = 0;
    uint32_t matched = 0;
    for (size_t slot = 0; slot < kSlotCount; ++slot) {
      SlotLayout& s = out_.slots[slot];
      s.stamp_base = next;
      next += s.pattern_count;
      if (slot == kSlotComm || slot == kSlotExe) {
        s.parent_stamp_base = next;
        next += s.pattern_count;
      }
      if (slot < kAnchorSlotCount) {
        s.matched_base = matched;
        matched += s.pattern_count;
      }
    }
    out_.stamp_count = next;
    out_.matched_count = matched;
  }

  const RuleSet& rules_;
  const std::vector<std::vector<ResolvedPath>>& resolved_;
  MatchEngine engine_;
  PolicyLayout out_;
  std::array<PatternTable, kSlotCount> tables_;
  std::array<std::vector<std::vector<uint32_t>>, kAnchorSlotCount> anchored_;
  ListBuilder<FileId, decltype(PolicyLayout::by_file_id)> by_file_id_;
  ListBuilder<std::string, decltype(PolicyLayout::by_path)> by_path_;
  ListBuilder<Sha256, decltype(PolicyLayout::by_sha256)> by_sha256_;
  ListBuilder<uint32_t, decltype(PolicyLayout::by_uid)> by_uid_;
  std::array<std::vector<uint32_t>, 2> by_file_kind_;
  std::vector<uint32_t> unanchored_;
};

}  // namespace

Result<PolicyLayout> build_layout(const RuleSet& rules,
                                  const std::vector<std::vector<ResolvedPath>>& resolved,
                                  MatchEngine engine, LayoutStats* stats) {
  return Builder(rules, resolved, engine).build(stats);
}

}  // namespace cmdgate::rules
