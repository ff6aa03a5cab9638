// evaluate_layout(): candidates in precedence order, each tested in full; the first that holds
// decides. Allocation-free once the calling thread's scratch has grown to the policy's size.

#include <algorithm>

#include "rules/policy_layout.h"

namespace cmdgate::rules {
namespace {

// A sorted rule list being merged: its next value and where the rest lies in rule_lists.
struct Cursor {
  uint32_t value;
  uint32_t next;
  uint32_t end;
};
struct CursorAfter {
  bool operator()(const Cursor& a, const Cursor& b) const { return a.value > b.value; }
};

// Eager lists pushed at most: file id, path, sha256, two kinds, uid, gid, tty, unanchored.
constexpr size_t kEagerLists = 9;

// Per-thread state. Marks are epoch-stamped so that nothing is cleared between evaluations;
// every policy evaluated on the thread (an old one and its reload) shares it, sized for the
// largest.
struct Scratch {
  std::vector<uint32_t> stamps;
  std::vector<uint32_t> matched;
  std::vector<Cursor> heap;
  uint32_t epoch = 0;

  uint32_t begin(const PolicyLayout& p, const ExecContext& ctx) {
    if (stamps.size() < p.stamp_count) {
      stamps.resize(p.stamp_count, 0);
    }
    if (matched.size() < p.matched_count) {
      matched.resize(p.matched_count);
    }
    // At most one list per eager lookup, per supplementary group, per matched pattern.
    const size_t heap_bound = kEagerLists + ctx.groups.size() + p.matched_count;
    if (heap.capacity() < heap_bound) {
      heap.reserve(heap_bound);
    }
    heap.clear();
    if (++epoch == 0) {  // wrapped: old marks could now look current
      std::fill(stamps.begin(), stamps.end(), 0);
      epoch = 1;
    }
    return epoch;
  }
};

thread_local Scratch t_scratch;

// Where one match set records a scan's results.
struct SetTarget {
  uint32_t* stamps = nullptr;
  uint32_t* matched = nullptr;
  uint32_t* matched_count = nullptr;
};

// Marks matched pattern ids and lists each one once per evaluation; optionally into a second
// set too (lineage[0] feeds both "parent" and "any ancestor").
class StampSink final : public MatchSink {
 public:
  StampSink(SetTarget primary, uint32_t epoch) : primary_(primary), epoch_(epoch) {}
  void also_into(const SetTarget* second) { second_ = second; }

  void on_match(uint32_t id) override {
    mark(primary_, id);
    if (second_ != nullptr) {
      mark(*second_, id);
    }
  }

 private:
  void mark(const SetTarget& t, uint32_t id) {
    if (t.stamps[id] != epoch_) {
      t.stamps[id] = epoch_;
      t.matched[(*t.matched_count)++] = id;
    }
  }

  SetTarget primary_;
  const SetTarget* second_ = nullptr;
  uint32_t epoch_;
};

bool contains(const std::vector<uint32_t>& pool, Span s, uint32_t value) {
  const auto* first = pool.data() + s.begin;
  return std::binary_search(first, first + s.size, value);
}

class Evaluation {
 public:
  Evaluation(const PolicyLayout& p, const ExecContext& ctx)
      : p_(p), ctx_(ctx), s_(t_scratch), epoch_(s_.begin(p, ctx)) {}

  uint32_t first_match() {
    push_eager_candidates();
    uint32_t last = kNoRule;
    for (;;) {
      const uint32_t next = s_.heap.empty() ? kNoRule : s_.heap.front().value;
      // A lazy match set must join the merge before anything it could precede is visited.
      bool joined = false;
      for (size_t set = 0; set < kMatchSetCount; ++set) {
        if ((joined_ & (1u << set)) == 0 && p_.sets[set].first_anchored < next) {
          join(static_cast<MatchSet>(set));
          joined = true;
        }
      }
      if (joined) {
        continue;
      }
      if (s_.heap.empty()) {
        return kNoRule;
      }
      const uint32_t r = pop();
      if (r != last && holds(r)) {
        return r;
      }
      last = r;
    }
  }

 private:
  template <typename Map, typename Key>
  static Span lookup(const Map& map, const Key& key) {
    auto it = map.find(key);
    return it == map.end() ? Span{} : it->second;
  }

  void push_eager_candidates() {
    id_hits_ = lookup(p_.by_file_id, ctx_.file);
    push(id_hits_);
    if (ctx_.sha256 != nullptr) {
      push(lookup(p_.by_sha256, *ctx_.sha256));
    }
    for (size_t bit = 0; bit < p_.by_file_kind.size(); ++bit) {
      if ((ctx_.file_kinds & (1u << bit)) != 0) {
        push(p_.by_file_kind[bit]);
      }
    }
    push(lookup(p_.by_uid, ctx_.uid));
    if (!p_.by_gid.empty()) {
      push(lookup(p_.by_gid, ctx_.gid));
      for (uint32_t g : ctx_.groups) {
        push(lookup(p_.by_gid, g));
      }
    }
    push(p_.by_tty[ctx_.tty ? 1 : 0]);
    push(p_.unanchored);
  }

  void push(Span list) {
    if (list.size == 0) {
      return;
    }
    s_.heap.push_back({p_.rule_lists[list.begin], list.begin + 1, list.begin + list.size});
    std::push_heap(s_.heap.begin(), s_.heap.end(), CursorAfter{});
  }

  uint32_t pop() {
    std::pop_heap(s_.heap.begin(), s_.heap.end(), CursorAfter{});
    Cursor& c = s_.heap.back();
    const uint32_t value = c.value;
    if (c.next < c.end) {
      c.value = p_.rule_lists[c.next++];
      std::push_heap(s_.heap.begin(), s_.heap.end(), CursorAfter{});
    } else {
      s_.heap.pop_back();
    }
    return value;
  }

  // Adds the rules anchored on the set's matched patterns to the merge.
  void join(MatchSet set) {
    joined_ |= 1u << set;
    scan(slot_of(set));
    const MatchSetLayout& s = p_.sets[set];
    for (uint32_t k = 0; k < matched_count_[set]; ++k) {
      push(s.anchored[s_.matched[s.matched_base + k]]);
    }
  }

  SetTarget target(MatchSet set) {
    const MatchSetLayout& s = p_.sets[set];
    return {s_.stamps.data() + s.stamp_base, s_.matched.data() + s.matched_base,
            &matched_count_[set]};
  }

  void scan(Slot slot) {
    if ((scanned_ & (1u << slot)) != 0) {
      return;
    }
    scanned_ |= 1u << slot;
    const PatternMatcher* m = p_.slots[slot].matcher.get();
    if (m == nullptr) {
      return;
    }
    switch (slot) {
      case kSlotPath: {
        StampSink sink(target(kSetPathGlobs), epoch_);
        m->scan(ctx_.path, sink);
        break;
      }
      case kSlotArgs: {
        StampSink sink(target(kSetArgs), epoch_);
        for (size_t i = 1; i < ctx_.argv.size(); ++i) {
          m->scan(ctx_.argv[i], sink);
        }
        break;
      }
      case kSlotCmdline: {
        StampSink sink(target(kSetCmdline), epoch_);
        m->scan(ctx_.cmdline, sink);
        break;
      }
      case kSlotCgroup: {
        StampSink sink(target(kSetCgroup), epoch_);
        m->scan(ctx_.cgroup, sink);
        break;
      }
      case kSlotComm:
      case kSlotExe: {
        const bool comm = slot == kSlotComm;
        StampSink sink(target(comm ? kSetAncestorComm : kSetAncestorExe), epoch_);
        const SetTarget parent = target(comm ? kSetParentComm : kSetParentExe);
        for (size_t i = 0; i < ctx_.lineage.size(); ++i) {
          sink.also_into(i == 0 ? &parent : nullptr);
          const AncestorView& a = ctx_.lineage[i];
          if (comm) {
            m->scan(a.comm, sink);
          } else if (!a.exe_path.empty()) {  // an unknown exe path matches nothing
            m->scan(a.exe_path, sink);
          }
        }
        break;
      }
    }
  }

  // True when the set matched one of ids (scanning first if needed).
  bool any_matched(MatchSet set, Span ids) {
    if (ids.size == 0) {
      return false;
    }
    scan(slot_of(set));
    const uint32_t* stamps = s_.stamps.data() + p_.sets[set].stamp_base;
    for (uint32_t k = 0; k < ids.size; ++k) {
      if (stamps[p_.u32_pool[ids.begin + k]] == epoch_) {
        return true;
      }
    }
    return false;
  }

  bool gid_holds(Span gids) const {
    return contains(p_.u32_pool, gids, ctx_.gid) ||
           std::any_of(ctx_.groups.begin(), ctx_.groups.end(),
                       [&](uint32_t g) { return contains(p_.u32_pool, gids, g); });
  }

  bool sha256_holds(Span list) const {
    if (ctx_.sha256 == nullptr) {
      return false;
    }
    const Sha256* first = p_.sha256_pool.data() + list.begin;
    return std::binary_search(first, first + list.size, *ctx_.sha256);
  }

  // Every predicate, cheapest first; the anchor is tested again like any other.
  bool holds(uint32_t r) {
    const CompiledRule& c = p_.rules[r];
    const auto& pat = c.patterns;
    return (c.file_kinds == 0 || (ctx_.file_kinds & c.file_kinds) != 0) &&
           (c.tty < 0 || ctx_.tty == (c.tty == 1)) &&
           (c.uids.size == 0 || contains(p_.u32_pool, c.uids, ctx_.uid)) &&
           (c.gids.size == 0 || gid_holds(c.gids)) &&
           // One `path` predicate: exact paths (by identity) or globs.
           ((!c.has_paths && pat[kSetPathGlobs].size == 0) ||
            (c.has_paths && contains(p_.rule_lists, id_hits_, r)) ||
            (pat[kSetPathGlobs].size != 0 && any_matched(kSetPathGlobs, pat[kSetPathGlobs]))) &&
           (c.sha256.size == 0 || sha256_holds(c.sha256)) &&
           (pat[kSetCgroup].size == 0 || any_matched(kSetCgroup, pat[kSetCgroup])) &&
           (pat[kSetArgs].size == 0 || any_matched(kSetArgs, pat[kSetArgs])) &&
           (pat[kSetCmdline].size == 0 || any_matched(kSetCmdline, pat[kSetCmdline])) &&
           (!c.has_parent || any_matched(kSetParentComm, pat[kSetParentComm]) ||
            any_matched(kSetParentExe, pat[kSetParentExe])) &&
           (!c.has_ancestor || any_matched(kSetAncestorComm, pat[kSetAncestorComm]) ||
            any_matched(kSetAncestorExe, pat[kSetAncestorExe]));
  }

  const PolicyLayout& p_;
  const ExecContext& ctx_;
  Scratch& s_;
  const uint32_t epoch_;
  Span id_hits_;
  uint32_t scanned_ = 0;
  uint32_t joined_ = 0;
  std::array<uint32_t, kMatchSetCount> matched_count_{};
};

}  // namespace

uint32_t evaluate_layout(const PolicyLayout& layout, const ExecContext& ctx) {
  return Evaluation(layout, ctx).first_match();
}

}  // namespace cmdgate::rules
