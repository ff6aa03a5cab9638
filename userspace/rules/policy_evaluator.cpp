// evaluate_layout(): candidates in precedence order, each tested in full; the first that holds
// decides. Allocation-free once the calling thread's scratch has grown to the policy's size.

#include <algorithm>

#include "rules/policy_scans.h"

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

// Per-thread state: the marks of the scans, and the merge heap.
struct Scratch {
  scans::Marks marks;
  std::vector<Cursor> heap;

  uint32_t begin(const PolicyLayout& p, const ExecContext& ctx) {
    // At most one list per eager lookup, per supplementary group, per matched pattern.
    const size_t heap_bound = kEagerLists + ctx.groups.size() + p.matched_count;
    if (heap.capacity() < heap_bound) {
      heap.reserve(heap_bound);
    }
    heap.clear();
    return marks.begin(p);
  }
};

thread_local Scratch t_scratch;

class Evaluation {
 public:
  Evaluation(const PolicyLayout& p, const ExecContext& ctx)
      : p_(p), ctx_(ctx), s_(t_scratch), scans_(p, ctx, s_.marks, s_.begin(p, ctx)) {}

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
    scans_.scan(slot_of(set));
    const MatchSetLayout& s = p_.sets[set];
    for (uint32_t k = 0; k < scans_.matched_count(set); ++k) {
      push(s.anchored[scans_.matched(set, k)]);
    }
  }

  // Every predicate, cheapest first; the anchor is tested again like any other.
  bool holds(uint32_t r) {
    const CompiledRule& c = p_.rules[r];
    const auto list = [&](unsigned which) { return p_.list(c, which); };
    return (c.file_kinds == 0 || (ctx_.file_kinds & c.file_kinds) != 0) &&
           (c.trust == 0 || (ctx_.trust & c.trust) != 0) &&
           (!c.has_agent || (ctx_.agents & c.agents) != 0) &&
           (c.tty < 0 || ctx_.tty == (c.tty == 1)) &&
           (list(kListUids).size == 0 || scans::contains(p_.u32_pool, list(kListUids), ctx_.uid)) &&
           (list(kListGids).size == 0 || scans::gid_holds(p_, ctx_, list(kListGids))) &&
           // One `path` predicate: exact paths (by identity) or globs.
           ((!c.has_paths && list(kSetPathGlobs).size == 0) ||
            (c.has_paths && scans::contains(p_.rule_lists, id_hits_, r)) ||
            (list(kSetPathGlobs).size != 0 &&
             scans_.any_matched(kSetPathGlobs, list(kSetPathGlobs)))) &&
           (list(kListSha256).size == 0 || scans::sha256_holds(p_, ctx_, list(kListSha256))) &&
           (list(kSetCgroup).size == 0 || scans_.any_matched(kSetCgroup, list(kSetCgroup))) &&
           (list(kSetArgs).size == 0 || scans_.any_matched(kSetArgs, list(kSetArgs))) &&
           (list(kSetCmdline).size == 0 || scans_.any_matched(kSetCmdline, list(kSetCmdline))) &&
           (!c.has_parent || scans_.any_matched(kSetParentComm, list(kSetParentComm)) ||
            scans_.any_matched(kSetParentExe, list(kSetParentExe))) &&
           (!c.has_ancestor || scans_.any_matched(kSetAncestorComm, list(kSetAncestorComm)) ||
            scans_.any_matched(kSetAncestorExe, list(kSetAncestorExe)));
  }

  const PolicyLayout& p_;
  const ExecContext& ctx_;
  Scratch& s_;
  scans::Scans scans_;
  Span id_hits_;
  uint32_t joined_ = 0;
};

}  // namespace

uint32_t evaluate_layout(const PolicyLayout& layout, const ExecContext& ctx) {
  return Evaluation(layout, ctx).first_match();
}

}  // namespace cmdgate::rules
