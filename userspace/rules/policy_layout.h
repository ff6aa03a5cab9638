#pragma once
// The data of a compiled policy, built by build_layout() and read by evaluate_layout().
//
// Every rule gets one anchor: the most selective predicate it has that can be looked up rather
// than tested, in this order: exact paths, sha256, path globs, file kinds, args, cmdline, uids.
// A rule becomes a candidate only when its anchor's lookup returns it (rules with none of these
// are always candidates); candidates are then visited in precedence order and tested in full,
// so the anchor decides cost, never meaning.
//
// Lookups are hash tables (file identity, path string, sha256, uid), per-kind lists, and one
// multi-pattern matcher per string the rules look at (path, argv elements, cmdline, the
// lineage's comms and exe paths, cgroup). Matchers are run lazily, only once a candidate rule
// needs their answer or a rule anchored on them could come before the next known candidate.

#include <array>
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

// One matcher per string a rule can look at.
enum Slot : uint8_t { kSlotGlob, kSlotArgs, kSlotCmdline, kSlotComm, kSlotExe, kSlotCgroup };
inline constexpr size_t kSlotCount = 6;
// Slots whose matches make candidates (the others only answer predicate tests).
inline constexpr size_t kAnchorSlotCount = 3;

// A parent/ancestor pattern reference: a pattern id in kSlotComm, or in kSlotExe with this bit.
inline constexpr uint32_t kExePatternBit = 1u << 31;

struct CompiledRule {
  std::array<Span, kSlotCount> patterns;  // pattern ids per slot (comm/exe unused: see below)
  Span parent;                            // process pattern references
  Span ancestor;
  Span uids;    // sorted
  Span gids;    // sorted
  Span sha256;  // into PolicyLayout::sha256_pool, sorted
  uint8_t file_kinds = 0;
  int8_t tty = -1;  // -1: any
  bool has_paths = false;
};

struct SlotLayout {
  std::unique_ptr<PatternMatcher> matcher;  // null: no rule uses this slot
  uint32_t pattern_count = 0;
  uint32_t stamp_base = 0;         // "matched" marks; for comm/exe: matched by any ancestor
  uint32_t parent_stamp_base = 0;  // comm/exe only: matched by the parent
  // Anchor slots only:
  uint32_t matched_base = 0;          // where this slot lists its matched ids in a scan
  std::vector<Span> anchored;         // per pattern id: rules anchored on it
  uint32_t first_anchored = kNoRule;  // lowest rule index anchored on this slot
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
  std::vector<uint32_t> u32_pool;  // pattern ids, process references, uids, gids
  std::vector<Sha256> sha256_pool;
  std::vector<uint32_t> rule_lists;  // sorted rule-index lists the indexes below point into

  std::unordered_map<FileId, Span, FileIdHash> by_file_id;  // every rule with paths
  std::unordered_map<std::string, Span, StringHash, std::equal_to<>> by_path;  // idem
  std::unordered_map<Sha256, Span, Sha256Hash> by_sha256;  // rules anchored on sha256
  std::unordered_map<uint32_t, Span> by_uid;               // rules anchored on uid
  std::array<Span, 2> by_file_kind;                        // per FileKind bit
  Span unanchored;

  std::array<SlotLayout, kSlotCount> slots;
  uint32_t stamp_count = 0;
  uint32_t matched_count = 0;
  uint32_t needs = 0;
};

// What a rule is anchored on, best first.
enum class Anchor : uint8_t { kPath, kSha256, kGlob, kFileKind, kArgs, kCmdline, kUid, kNone };
inline constexpr size_t kAnchorKinds = 8;

struct LayoutStats {
  std::array<size_t, kAnchorKinds> anchored{};  // rule count by Anchor
  MatcherStats patterns;
};

[[nodiscard]] Result<PolicyLayout> build_layout(
    const RuleSet& rules, const std::vector<std::vector<ResolvedPath>>& resolved,
    MatchEngine engine, LayoutStats* stats);

// The index of the first rule that holds, or kNoRule.
[[nodiscard]] uint32_t evaluate_layout(const PolicyLayout& layout, const ExecContext& ctx);

}  // namespace cmdgate::rules
