#pragma once
// Many patterns, one pass: the engine behind every multi-pattern predicate of a compiled policy.
//
// Patterns are RE2 syntax compiled with re2_options() (byte semantics). Two engines:
//   RE2::Set   accepts everything RE2 accepts; but each scan takes RE2's DFA-cache lock and
//              allocates its result set, so it is the fallback, not the hot path.
//   Hyperscan  lock-free and allocation-free after a thread's first scan (per-thread scratch).
//              It takes the subset of RE2 syntax described in hyperscan_syntax.h; any pattern
//              outside it, or that Hyperscan rejects, is matched by an RE2::Set holding just
//              those patterns, so a policy never fails to load because of Hyperscan.

#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <string_view>

#include "common/result.h"
#include "rules/regex_options.h"

namespace cmdgate::rules {

enum class MatchEngine : uint8_t {
  kAuto,       // Hyperscan, with RE2 for the patterns it cannot take
  kRe2,        // RE2::Set only
  kHyperscan,  // same as kAuto; named for tests and benchmarks
  // kAuto with each Hyperscan database compiled in a forked child (common/forked_call.h) and
  // handed back serialized: the compiler's code and heap, several megabytes, never become this
  // process's memory, and a compiler crash or hang fails the compile instead of the process.
  // The daemon's engine; the child costs a fork per database.
  kHyperscanInChild,
};

// Receives the ids of matching patterns. An id may be reported more than once per scan.
class MatchSink {
 public:
  virtual ~MatchSink() = default;
  virtual void on_match(uint32_t id) = 0;
};

struct MatcherStats {
  size_t hyperscan_patterns = 0;
  size_t re2_patterns = 0;
  size_t literal_patterns = 0;  // globs answered by hash lookups (see glob_set_matcher.h)
  MatcherStats& operator+=(const MatcherStats& o) {
    hyperscan_patterns += o.hyperscan_patterns;
    re2_patterns += o.re2_patterns;
    literal_patterns += o.literal_patterns;
    return *this;
  }
};

class PatternMatcher {
 public:
  virtual ~PatternMatcher() = default;
  // Reports every pattern that matches text (kRegex: anywhere in it; kGlob: all of it). Ids are
  // positions in the pattern list given at construction. Thread-safe.
  virtual void scan(std::string_view text, MatchSink& sink) const = 0;
  [[nodiscard]] virtual MatcherStats stats() const = 0;
};

// Fails only when a pattern is not valid RE2 (with re2_options) or on resource limits. ids[i] is
// reported for patterns[i]; without ids, i is.
[[nodiscard]] Result<std::unique_ptr<PatternMatcher>> make_pattern_matcher(
    MatchEngine engine, std::span<const std::string> patterns, PatternFlavor flavor,
    std::span<const uint32_t> ids = {});

}  // namespace cmdgate::rules
