#pragma once
// The data of a compiled policy, built by build_layout() and read by evaluate_layout().
//
// Every rule gets one anchor: the most selective of its predicates that can be looked up rather
// than tested (see Anchor for the order). A rule becomes a candidate only when its anchor's
// lookup returns it; only rules with an empty match are candidates for every exec. Candidates
// are visited in precedence order and tested in full, so the anchor decides cost, never meaning.
//
// Lookups are hash tables (file identity, path string, sha256, uid, gid), per-value lists (file
// kind, tty), and one multi-pattern matcher per string the rules look at (path, each argv
// element, cmdline, cgroup, the lineage's comms and exe paths). A matcher runs lazily: when a
// candidate needs its answer, or when a rule anchored on it could come before the next known
// candidate.

#include <array>
#include <bit>
#include <cstdint>
#include <cstring>
#include <memory>
#include <string>
#include <unordered_map>
#include <vector>

#include "rules/exec_context.h"
#include "rules/pattern_matcher.h"
#include "rules/policy.h"
#include "rules/string_hash.h"

namespace cmdgate::rules {

inline constexpr uint32_t kNoRule = UINT32_MAX;

// A run of a pool vector.
struct Span {
  uint32_t begin = 0;
  uint32_t size = 0;
};

// One matcher per string the rules look at.
enum Slot : uint8_t { kSlotPath, kSlotArgs, kSlotCmdline, kSlotCgroup, kSlotComm, kSlotExe };
inline constexpr size_t kSlotCount = 6;

// What one evaluation's scans found. A lineage scan feeds two sets: what matched the parent, and
// what matched any ancestor.
enum MatchSet : uint8_t {
  kSetPathGlobs,
  kSetArgs,
  kSetCmdline,
  kSetCgroup,
  kSetParentComm,
  kSetParentExe,
  kSetAncestorComm,
  kSetAncestorExe,
};
inline constexpr size_t kMatchSetCount = 8;

inline constexpr Slot slot_of(MatchSet s) {
  constexpr std::array<Slot, kMatchSetCount> kSlots = {
      kSlotPath, kSlotArgs, kSlotCmdline, kSlotCgroup, kSlotComm, kSlotExe, kSlotComm, kSlotExe};
  return kSlots[s];
}

// What a rule is anchored on, best first.
enum class Anchor : uint8_t {
  kPath,
  kSha256,
  kGlob,
  kFileKind,
  kArgs,
  kCmdline,
  kParent,
  kAncestor,
  kCgroup,
  kUid,
  kGid,
  kTty,
  kNone,  // an empty match: a candidate for every exec
};
inline constexpr size_t kAnchorKinds = 13;

// The value lists a rule tests: per MatchSet, the pattern ids it accepts (sorted, into u32_pool);
// then these.
enum RuleList : uint8_t {
  kListUids = kMatchSetCount,  // sorted, into u32_pool
  kListGids,                   // sorted, into u32_pool
  kListSha256,                 // sorted, into sha256_pool
};
inline constexpr size_t kRuleListCount = kMatchSetCount + 3;

// A rule uses one or two of its lists, and a policy holds one of these per rule, so a rule
// stores the spans of the lists it has only (PolicyLayout::list() reads them).
struct CompiledRule {
  uint32_t lists_begin = 0;  // into PolicyLayout::list_spans: one span per bit of `lists`
  uint16_t lists = 0;        // bit i: list i (a MatchSet or a RuleList) is not empty
  uint8_t file_kinds = 0;
  uint8_t trust = 0;  // Trust bits, any of which holds; 0: any
  int8_t tty = -1;    // -1: any
  bool has_paths = false;
  bool has_resolved_paths = false;  // some exact path names an existing file
  bool has_parent = false;          // patterns in kSetParentComm and/or kSetParentExe
  bool has_ancestor = false;
  bool has_agent = false;  // the label must carry one of `agents`
  uint8_t strictness = 0;  // Decision::strictness() of the rule's decision
  uint64_t agents = 0;     // label bits
};
static_assert(kRuleListCount <= 16, "CompiledRule::lists has a bit per list");

struct SlotLayout {
  std::unique_ptr<PatternMatcher> matcher;  // null: no rule uses this slot
  uint32_t pattern_count = 0;
};

struct MatchSetLayout {
  uint32_t stamp_base = 0;            // one mark per pattern of the slot
  uint32_t matched_base = 0;          // room to list each matched id once
  std::vector<Span> anchored;         // per pattern id: the rules anchored on it
  uint32_t first_anchored = kNoRule;  // lowest rule index anchored on this set
};

struct Sha256Hash {
  size_t operator()(const Sha256& h) const noexcept {
    uint64_t v = 0;
    std::memcpy(&v, h.data(), sizeof v);
    return v;
  }
};

struct PolicyLayout {
  std::vector<CompiledRule> rules;
  std::vector<Span> list_spans;    // the rules' non-empty lists, by rule, in list order
  std::vector<uint32_t> u32_pool;  // pattern ids, uids, gids
  std::vector<Sha256> sha256_pool;
  std::vector<uint32_t> rule_lists;  // the sorted rule-index lists the indexes point into

  // Every rule with exact paths, under each resolved identity. Exact paths match by identity
  // only (hard links and symlinks included); the daemon re-resolves them when they change.
  std::unordered_map<FileId, Span, FileIdHash> by_file_id;
  std::unordered_map<Sha256, Span, Sha256Hash> by_sha256;  // the rest: anchored rules only
  std::unordered_map<uint32_t, Span> by_uid;
  std::unordered_map<uint32_t, Span> by_gid;
  std::array<Span, 2> by_file_kind;  // per FileKind bit
  std::array<Span, 2> by_tty;        // [false], [true]
  Span unanchored;

  std::array<SlotLayout, kSlotCount> slots;
  std::array<MatchSetLayout, kMatchSetCount> sets;
  uint32_t stamp_count = 0;
  uint32_t matched_count = 0;
  uint32_t needs = 0;
  uint32_t unknowns_read = 0;  // Unknown bits some predicate reads; others change no decision

  // Rule c's list `which` (a MatchSet or a RuleList); empty when the rule has none.
  [[nodiscard]] Span list(const CompiledRule& c, unsigned which) const {
    const uint32_t bit = 1u << which;
    if ((c.lists & bit) == 0) {
      return {};
    }
    return list_spans[c.lists_begin + static_cast<uint32_t>(std::popcount(c.lists & (bit - 1u)))];
  }
};

struct LayoutStats {
  std::array<size_t, kAnchorKinds> anchored{};  // rule count by Anchor
  MatcherStats patterns;
};

[[nodiscard]] Result<PolicyLayout> build_layout(const RuleSet& rules, const RulePaths& resolved,
                                                MatchEngine engine, LayoutStats* stats);

// The index of the first rule that holds, or kNoRule. Ignores ctx.unknown.
[[nodiscard]] uint32_t evaluate_layout(const PolicyLayout& layout, const ExecContext& ctx);

// Under ctx.unknown (see Policy::evaluate): the first rule that certainly holds, and the
// strictest rule before it that might hold (the earliest of equals); kNoRule for none.
struct UncertainMatch {
  uint32_t holds = kNoRule;
  uint32_t might_hold = kNoRule;
};
[[nodiscard]] UncertainMatch evaluate_layout_uncertain(const PolicyLayout& layout,
                                                       const ExecContext& ctx);

}  // namespace cmdgate::rules
