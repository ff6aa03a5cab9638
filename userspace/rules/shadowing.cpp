#include "rules/shadowing.h"

#include <algorithm>
#include <optional>

#include "rules/policy.h"

namespace cmdgate::rules {
namespace {

// Every element of `narrow` is in `broad`, compared as written. Two different patterns may
// accept the same things; that is not looked for.
template <typename T, typename Eq>
bool covers(const std::vector<T>& broad, const std::vector<T>& narrow, Eq eq) {
  return std::all_of(narrow.begin(), narrow.end(), [&](const T& n) {
    return std::any_of(broad.begin(), broad.end(), [&](const T& b) { return eq(b, n); });
  });
}

template <typename T>
bool covers(const std::vector<T>& broad, const std::vector<T>& narrow) {
  return covers(broad, narrow, [](const T& a, const T& b) { return a == b; });
}

// One key of `broad` holds whenever the same key of `narrow` does: `broad` does not have the key
// (it holds always), or `narrow` has it with a subset of its values. A key `broad` has and
// `narrow` does not could fail where `narrow` holds.
template <typename T>
bool key_covers(const PredicateList<T>& broad, const PredicateList<T>& narrow) {
  return broad.empty() || (!narrow.empty() && covers(broad.values(), narrow.values()));
}

// `broad` holds on every exec `narrow` holds on, and with unknown facts, it is at least as sure
// to hold: each key's answer (holds, might hold, fails) is computed from the same fact for both,
// and a key with more values never answers less.
bool matches_all_of(const Match& broad, const Match& narrow) {
  const bool any_path = broad.paths.empty() && broad.path_globs.empty();
  const bool narrow_path = !narrow.paths.empty() || !narrow.path_globs.empty();
  // path and its globs are one key: an exec matches it through either list.
  const bool path =
      any_path || (narrow_path && covers(broad.paths.values(), narrow.paths.values()) &&
                   covers(broad.path_globs.values(), narrow.path_globs.values()));
  const auto same_pattern = [](const ProcessPattern& a, const ProcessPattern& b) {
    return a.text == b.text;
  };
  const auto process_key = [&](const std::vector<ProcessPattern>& b,
                               const std::vector<ProcessPattern>& n) {
    return b.empty() || (!n.empty() && covers(b, n, same_pattern));
  };
  const bool file_kinds =
      broad.file_kinds == 0 ||
      (narrow.file_kinds != 0 && (narrow.file_kinds & ~broad.file_kinds) == 0);
  const bool trust = broad.trust == 0 || (narrow.trust != 0 && (narrow.trust & ~broad.trust) == 0);
  const bool tty = !broad.tty || broad.tty == narrow.tty;
  return path && file_kinds && trust && tty && key_covers(broad.sha256, narrow.sha256) &&
         key_covers(broad.args, narrow.args) && key_covers(broad.cmdline, narrow.cmdline) &&
         key_covers(broad.uids, narrow.uids) && key_covers(broad.gids, narrow.gids) &&
         process_key(broad.parent, narrow.parent) && process_key(broad.ancestor, narrow.ancestor) &&
         key_covers(broad.cgroup_globs, narrow.cgroup_globs) &&
         key_covers(broad.agents, narrow.agents);
}

// Holds or fails, never only might hold: every key it has is a fact the daemon always knows.
bool always_sure(const Match& m) {
  Match rest = m;
  rest.uids.clear();
  rest.tty.reset();
  return matches_all_of(rest, Match{});  // only a rule without keys covers one without any
}

uint8_t strictness(const RuleSet& set, const Rule& r) {
  return Decision{r.action, r.mode.value_or(set.mode)}.strictness();
}

}  // namespace

std::vector<Shadowed> find_shadowed(const RuleSet& set) {
  std::vector<Shadowed> out;
  if (set.rules.size() > kMaxShadowCheckedRules) {
    return out;
  }
  for (size_t n = 1; n < set.rules.size(); ++n) {
    const uint8_t own = strictness(set, set.rules[n]);
    std::optional<size_t> first;
    std::optional<size_t> decisive;
    for (size_t b = 0; b < n && !decisive; ++b) {
      const Rule& broad = set.rules[b];
      if (matches_all_of(broad.match, set.rules[n].match)) {
        first = first.value_or(b);
        // With unknown facts a covering rule might hold where this one might; the stricter
        // outcome decides, on a tie the earlier rule. One at least as strict leaves it nothing,
        // and so does one that always holds where this one might.
        if (strictness(set, broad) >= own || always_sure(broad.match)) {
          decisive = b;
        }
      }
    }
    if (first) {
      out.push_back({n, decisive.value_or(*first), !decisive});
    }
  }
  return out;
}

}  // namespace cmdgate::rules
