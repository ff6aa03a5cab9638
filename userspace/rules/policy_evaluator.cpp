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

// Per-thread state. Marks are epoch-stamped so that nothing is cleared between evaluations;
// several policies (an old and a reloaded one) share it, sized for the largest.
struct Scratch {
  std::vector<uint32_t> stamps;
  std::vector<uint32_t> matched;
  std::vector<Cursor> heap;
  uint32_t epoch = 0;

  uint32_t begin(const PolicyLayout& p) {
    if (stamps.size() < p.stamp_count) {
      stamps.resize(p.stamp_count, 0);
    }
    if (matched.size() < p.matched_count) {
      matched.resize(p.matched_count);
    }
    // Every eager list, plus at most one list per matched anchor pattern.
    const size_t heap_bound = 8 + size_t{p.matched_count};
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

// Marks matched pattern ids; for anchor slots also lists each newly matched id once.
class StampSink final : public MatchSink {
 public:
  StampSink(uint32_t* stamps, uint32_t epoch, uint32_t* matched, uint32_t* matched_count)
      : stamps_(stamps), epoch_(epoch), matched_(matched), matched_count_(matched_count) {}
  void also_mark(uint32_t* stamps) { also_ = stamps; }

  void on_match(uint32_t id) override {
    if (stamps_[id] != epoch_) {
      stamps_[id] = epoch_;
      if (matched_ != nullptr) {
        matched_[(*matched_count_)++] = id;
      }
    }
    if (also_ != nullptr) {
      also_[id] = epoch_;
    }
  }

 private:
  uint32_t* stamps_;
  uint32_t epoch_;
  uint32_t* matched_;
  uint32_t* matched_count_;
  uint32_t* also_ = nullptr;
};

bool contains(const std::vector<uint32_t>& pool, Span s, uint32_t value) {
  const auto* first = pool.data() + s.begin;
  return std::binary_search(first, first + s.size, value);
}

class Evaluation {
 public:
  Evaluation(const PolicyLayout& p, const ExecContext& ctx)
      : p_(p), ctx_(ctx), s_(t_scratch), epoch_(s_.begin(p)) {}

  uint32_t first_match() {
    if (auto it = p_.by_file_id.find(ctx_.file); it != p_.by_file_id.end()) {
      id_hits_ = it->second;
    }
    if (auto it = p_.by_path.find(ctx_.path); it != p_.by_path.end()) {
      path_hits_ = it->second;
    }
    push(id_hits_);
    push(path_hits_);
    if (ctx_.sha256 != nullptr) {
      if (auto it = p_.by_sha256.find(*ctx_.sha256); it != p_.by_sha256.end()) {
        push(it->second);
      }
    }
    for (size_t bit = 0; bit < p_.by_file_kind.size(); ++bit) {
      if ((ctx_.file_kinds & (1u << bit)) != 0) {
        push(p_.by_file_kind[bit]);
      }
    }
    if (auto it = p_.by_uid.find(ctx_.uid); it != p_.by_uid.end()) {
      push(it->second);
    }
    push(p_.unanchored);

    uint32_t last = kNoRule;
    for (;;) {
      const uint32_t next = s_.heap.empty() ? kNoRule : s_.heap.front().value;
      // A lazy slot must join the merge before anything it could precede is visited.
      bool joined = false;
      for (size_t slot = 0; slot < kAnchorSlotCount; ++slot) {
        if ((joined_ & (1u << slot)) == 0 && p_.slots[slot].first_anchored < next) {
          join(static_cast<Slot>(slot));
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

  // Adds the rules anchored on a slot's matched patterns to the merge.
  void join(Slot slot) {
    joined_ |= 1u << slot;
    scan(slot);
    const SlotLayout& s = p_.slots[slot];
    for (uint32_t k = 0; k < matched_count_[slot]; ++k) {
      push(s.anchored[s_.matched[s.matched_base + k]]);
    }
  }

  void scan(Slot slot) {
    if ((scanned_ & (1u << slot)) != 0) {
      return;
    }
    scanned_ |= 1u << slot;
    const SlotLayout& s = p_.slots[slot];
    if (s.matcher == nullptr) {
      return;
    }
    uint32_t* stamps = s_.stamps.data();
    const bool anchors = slot < kAnchorSlotCount;
    StampSink sink(stamps + s.stamp_base, epoch_,
                   anchors ? s_.matched.data() + s.matched_base : nullptr,
                   anchors ? &matched_count_[slot] : nullptr);
    switch (slot) {
      case kSlotGlob:
        s.matcher->scan(ctx_.path, sink);
        break;
      case kSlotArgs:
        for (size_t i = 1; i < ctx_.argv.size(); ++i) {
          s.matcher->scan(ctx_.argv[i], sink);
        }
        break;
      case kSlotCmdline:
        s.matcher->scan(ctx_.cmdline, sink);
        break;
      case kSlotComm:
      case kSlotExe:
        for (size_t i = 0; i < ctx_.lineage.size(); ++i) {
          sink.also_mark(i == 0 ? stamps + s.parent_stamp_base : nullptr);
          const AncestorView& a = ctx_.lineage[i];
          if (slot == kSlotComm) {
            s.matcher->scan(a.comm, sink);
          } else if (!a.exe_path.empty()) {
            s.matcher->scan(a.exe_path, sink);
          }
        }
        break;
      case kSlotCgroup:
        s.matcher->scan(ctx_.cgroup, sink);
        break;
    }
  }

  bool any_matched(Slot slot, Span ids) {
    if (ids.size == 0) {
      return true;
    }
    scan(slot);
    const uint32_t* stamps = s_.stamps.data() + p_.slots[slot].stamp_base;
    for (uint32_t k = 0; k < ids.size; ++k) {
      if (stamps[p_.u32_pool[ids.begin + k]] == epoch_) {
        return true;
      }
    }
    return false;
  }

  bool any_process(Span refs, bool parent_only) {
    if (refs.size == 0) {
      return true;
    }
    for (uint32_t k = 0; k < refs.size; ++k) {
      const uint32_t ref = p_.u32_pool[refs.begin + k];
      const Slot slot = (ref & kExePatternBit) != 0 ? kSlotExe : kSlotComm;
      scan(slot);
      const SlotLayout& s = p_.slots[slot];
      const uint32_t base = parent_only ? s.parent_stamp_base : s.stamp_base;
      if (s_.stamps[base + (ref & ~kExePatternBit)] == epoch_) {
        return true;
      }
    }
    return false;
  }

  bool gid_holds(Span gids) const {
    if (contains(p_.u32_pool, gids, ctx_.gid)) {
      return true;
    }
    return std::any_of(ctx_.groups.begin(), ctx_.groups.end(),
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
    if (c.file_kinds != 0 && (ctx_.file_kinds & c.file_kinds) == 0) {
      return false;
    }
    if (c.tty >= 0 && ctx_.tty != (c.tty == 1)) {
      return false;
    }
    if (c.uids.size != 0 && !contains(p_.u32_pool, c.uids, ctx_.uid)) {
      return false;
    }
    if (c.gids.size != 0 && !gid_holds(c.gids)) {
      return false;
    }
    if (c.has_paths && !contains(p_.rule_lists, id_hits_, r) &&
        !contains(p_.rule_lists, path_hits_, r)) {
      return false;
    }
    if (c.sha256.size != 0 && !sha256_holds(c.sha256)) {
      return false;
    }
    for (Slot slot : {kSlotGlob, kSlotCgroup, kSlotArgs, kSlotCmdline}) {
      if (!any_matched(slot, c.patterns[slot])) {
        return false;
      }
    }
    return any_process(c.parent, true) && any_process(c.ancestor, false);
  }

  const PolicyLayout& p_;
  const ExecContext& ctx_;
  Scratch& s_;
  const uint32_t epoch_;
  Span id_hits_;
  Span path_hits_;
  uint32_t scanned_ = 0;
  uint32_t joined_ = 0;
  std::array<uint32_t, kAnchorSlotCount> matched_count_{};
};

}  // namespace

uint32_t evaluate_layout(const PolicyLayout& layout, const ExecContext& ctx) {
  return Evaluation(layout, ctx).first_match();
}

}  // namespace cmdgate::rules
