#pragma once
// What the first-match scan (policy_evaluator.cpp) and the scan under unknown facts
// (uncertain_evaluator.cpp) share: the predicate tests that are not inline in a rule, and one
// evaluation's multi-pattern matches (each slot's matcher runs at most once, when first asked,
// and marks what matched in per-thread scratch).

#include <algorithm>
#include <cstdint>
#include <vector>

#include "rules/policy_layout.h"

namespace cmdgate::rules::scans {

// Marks are epoch-stamped so that nothing is cleared between evaluations; every policy
// evaluated on a thread (an old one and its reload) shares them, sized for the largest.
struct Marks {
  std::vector<uint32_t> stamps;
  std::vector<uint32_t> matched;
  uint32_t epoch = 0;

  // Grows the marks to the policy's size; the epoch of a new evaluation.
  uint32_t begin(const PolicyLayout& p) {
    if (stamps.size() < p.stamp_count) {
      stamps.resize(p.stamp_count, 0);
    }
    if (matched.size() < p.matched_count) {
      matched.resize(p.matched_count);
    }
    if (++epoch == 0) {  // wrapped: old marks could now look current
      std::fill(stamps.begin(), stamps.end(), 0);
      epoch = 1;
    }
    return epoch;
  }
};

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

inline bool contains(const std::vector<uint32_t>& pool, Span s, uint32_t value) {
  const auto* first = pool.data() + s.begin;
  return std::binary_search(first, first + s.size, value);
}

// The real gid or a listed group is one of gids.
inline bool gid_holds(const PolicyLayout& p, const ExecContext& ctx, Span gids) {
  return contains(p.u32_pool, gids, ctx.gid) ||
         std::any_of(ctx.groups.begin(), ctx.groups.end(),
                     [&](uint32_t g) { return contains(p.u32_pool, gids, g); });
}

inline bool sha256_holds(const PolicyLayout& p, const ExecContext& ctx, Span list) {
  if (ctx.sha256 == nullptr) {
    return false;
  }
  const Sha256* first = p.sha256_pool.data() + list.begin;
  return std::binary_search(first, first + list.size, *ctx.sha256);
}

// Marks must have been begun for this evaluation (Marks::begin) and outlive it.
class Scans {
 public:
  Scans(const PolicyLayout& p, const ExecContext& ctx, Marks& marks, uint32_t epoch)
      : p_(p), ctx_(ctx), marks_(marks), epoch_(epoch) {}

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
    const uint32_t* stamps = marks_.stamps.data() + p_.sets[set].stamp_base;
    for (uint32_t k = 0; k < ids.size; ++k) {
      if (stamps[p_.u32_pool[ids.begin + k]] == epoch_) {
        return true;
      }
    }
    return false;
  }

  // The k-th pattern id the set matched, of matched_count(set), once scanned.
  [[nodiscard]] uint32_t matched_count(MatchSet set) const { return matched_count_[set]; }
  [[nodiscard]] uint32_t matched(MatchSet set, uint32_t k) const {
    return marks_.matched[p_.sets[set].matched_base + k];
  }

 private:
  SetTarget target(MatchSet set) {
    const MatchSetLayout& s = p_.sets[set];
    return {marks_.stamps.data() + s.stamp_base, marks_.matched.data() + s.matched_base,
            &matched_count_[set]};
  }

  const PolicyLayout& p_;
  const ExecContext& ctx_;
  Marks& marks_;
  const uint32_t epoch_;
  uint32_t scanned_ = 0;
  std::array<uint32_t, kMatchSetCount> matched_count_{};
};

}  // namespace cmdgate::rules::scans
