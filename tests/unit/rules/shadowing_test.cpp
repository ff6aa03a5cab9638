// find_shadowed: a rule is reported only when a rule before it in precedence order matches
// every exec it matches; the property test holds it to that against the compiled policy.

#include "rules/shadowing.h"

#include <gtest/gtest.h>

#include "parse_fixture.h"
#include "policy_test_util.h"
#include "random_patterns.h"
#include "random_world.h"
#include "rules/policy.h"

namespace cmdgate::rules {
namespace {

using testing::parse_ok;

// "rule-id<by-id" for each shadowed rule, "?" marking one that still decides with unknown facts.
std::vector<std::string> shadowed(const std::string& toml) {
  const RuleSet set = parse_ok(toml);
  std::vector<std::string> out;
  for (const Shadowed& s : find_shadowed(set)) {
    out.push_back(set.rules[s.rule].id + "<" + set.rules[s.by].id +
                  (s.decides_when_unknown ? "?" : ""));
  }
  return out;
}

using V = std::vector<std::string>;

TEST(Shadowing, ARuleWithoutConditionsShadowsEverythingBelow) {
  EXPECT_EQ(shadowed(R"(
[[rule]]
id = "all"
action = "deny"
[[rule]]
id = "rm"
action = "deny"
path = "/usr/bin/rm"
[[rule]]
id = "root"
action = "allow"
user = "root"
)"),
            (V{"rm<all", "root<all"}));
}

TEST(Shadowing, SupersetListsShadowSubsetsNotTheOtherWayRound) {
  EXPECT_EQ(shadowed(R"(
[[rule]]
id = "nets"
action = "deny"
path = ["/usr/bin/nc", "/usr/bin/ncat"]
args = ['^-e$', '^-c$']
[[rule]]
id = "nc-e"
action = "deny"
path = "/usr/bin/nc"
args = '^-e$'
user = "alice"
[[rule]]
id = "nc-wider"
action = "deny"
path = ["/usr/bin/nc", "/usr/bin/socat"]
)"),
            (V{"nc-e<nets"}));
}

TEST(Shadowing, AKeyTheBroadRuleHasAndTheNarrowOneLacksIsNoShadow) {
  EXPECT_EQ(shadowed(R"(
[[rule]]
id = "alice-rm"
action = "deny"
path = "/usr/bin/rm"
user = "alice"
[[rule]]
id = "rm"
action = "deny"
path = "/usr/bin/rm"
[[rule]]
id = "tty-rm"
action = "deny"
path = "/usr/bin/rm"
tty = true
[[rule]]
id = "no-tty-rm"
action = "deny"
path = "/usr/bin/rm"
tty = false
)"),
            (V{"tty-rm<rm", "no-tty-rm<rm"}));
}

TEST(Shadowing, PrecedenceOrderNotFileOrder) {
  // "late" comes second in the file but first in precedence; it has no condition that could be
  // unknown, so even the stricter "early" never decides.
  EXPECT_EQ(shadowed(R"(
[[rule]]
id = "early"
action = "deny"
path = "/usr/bin/rm"
[[rule]]
id = "late"
action = "allow"
priority = 10
)"),
            (V{"early<late"}));
}

TEST(Shadowing, AStricterRuleBelowStillDecidesUnderUnknownFacts) {
  EXPECT_EQ(shadowed(R"(
[[rule]]
id = "allow-curl"
action = "allow"
path = "/usr/bin/curl"
[[rule]]
id = "deny-curl-upload"
action = "deny"
path = "/usr/bin/curl"
args = '^-T$'
[[rule]]
id = "deny-curl"
action = "deny"
path = "/usr/bin/curl"
[[rule]]
id = "ask-curl-post"
action = "ask"
path = "/usr/bin/curl"
args = '^-d$'
)"),
            // deny-curl is as strict as deny-curl-upload and covers ask-curl-post: those never
            // decide; deny-curl-upload is stricter than the only rule above it.
            (V{"deny-curl-upload<allow-curl?", "deny-curl<allow-curl?", "ask-curl-post<deny-curl"}));
}

TEST(Shadowing, WhatTheKeysDoNotProveIsNotReported) {
  // A glob above an exact path, and different regexes that accept the same, are not compared.
  EXPECT_EQ(shadowed(R"(
[[rule]]
id = "bin"
action = "deny"
path = "/usr/bin/*"
[[rule]]
id = "rm"
action = "deny"
path = "/usr/bin/rm"
[[rule]]
id = "e"
action = "deny"
args = '-e'
[[rule]]
id = "e-anchored"
action = "deny"
args = '^-e$'
)"),
            V{});
}

// Narrower copies of rules, placed below them, so that shadowing happens in random sets.
Match narrowed(testing::Random& rnd, const Match& m, const Match& other) {
  Match n = m;
  const auto shrink = [&](auto& list) {
    if (list.size() > 1 && rnd.chance(0.5)) {
      auto& values = list.edit();
      values.erase(values.begin() + static_cast<long>(rnd.below(values.size())));
    }
  };
  const auto add = [&](auto& list, const auto& from) {
    if (list.empty() && !from.empty() && rnd.chance(0.4)) {
      list = from;
    }
  };
  shrink(n.paths);
  shrink(n.path_globs);
  shrink(n.sha256);
  shrink(n.args);
  shrink(n.cmdline);
  shrink(n.uids);
  shrink(n.gids);
  shrink(n.parent);
  shrink(n.ancestor);
  shrink(n.cgroup_globs);
  shrink(n.agents);
  add(n.args, other.args);
  add(n.uids, other.uids);
  add(n.gids, other.gids);
  add(n.parent, other.parent);
  add(n.ancestor, other.ancestor);
  add(n.cgroup_globs, other.cgroup_globs);
  add(n.agents, other.agents);
  add(n.sha256, other.sha256);
  if (!n.tty && other.tty && rnd.chance(0.4)) {
    n.tty = other.tty;
  }
  return n;
}

// Never a false warning: on random sets and contexts (with unknown facts too), a rule reported
// never decides, and one reported as still deciding under unknown facts decides only then.
TEST(Shadowing, AReportedRuleNeverDecidesWhatItShouldNot) {
  const uint64_t seed = testing::test_seed();
  SCOPED_TRACE(::testing::Message() << "CMDGATE_SEED=" << seed);
  testing::Random rnd(seed);
  testing::World world(rnd);
  size_t reported = 0;
  size_t unknown_decisions = 0;
  for (int s = 0; s < testing::property_sets(150); ++s) {
    RuleSet set = world.rule_set();
    const size_t base = set.rules.size();
    for (size_t k = 0; k < base / 2 + 1; ++k) {
      const size_t from = rnd.below(base);
      Rule r = set.rules[from];
      r.id = "n" + std::to_string(k);
      r.action = static_cast<Action>(rnd.below(4));
      r.match = narrowed(rnd, r.match, set.rules[rnd.below(base)].match);
      set.rules.insert(set.rules.begin() + static_cast<long>(from + 1 + rnd.below(base - from)),
                       std::move(r));
    }
    auto policy = Policy::compile(std::move(set), world.resolver());
    ASSERT_TRUE(policy.ok()) << policy.error().message;
    const RuleSet& rs = (*policy)->rule_set();
    const std::vector<Shadowed> found = find_shadowed(rs);
    reported += found.size();
    for (int c = 0; c < 200; ++c) {
      testing::OwnedContext ctx = world.context();
      if (rnd.chance(0.5)) {
        ctx.unknown = static_cast<uint32_t>(1 + rnd.below(kUnknownAll));
      }
      const Decision d = (*policy)->evaluate(ctx.view());
      for (const Shadowed& sh : found) {
        if (d.rule != &rs.rules[sh.rule]) {
          continue;
        }
        ASSERT_TRUE(sh.decides_when_unknown && ctx.unknown != 0)
            << rs.rules[sh.rule].id << " decided, reported as shadowed by "
            << rs.rules[sh.by].id << " (set " << s << ", context " << c << ")";
        ++unknown_decisions;
      }
    }
  }
  // The test means something only if shadowing was found and the unknown case happened (on
  // every set: the sanitizer builds draw fewer).
  if (testing::property_divisor() > 1) {
    return;
  }
  EXPECT_GT(reported, 300u);
  EXPECT_GT(unknown_decisions, 0u);
}

TEST(Shadowing, NotRunOnHugeSets) {
  RuleSet set;
  set.rules.resize(kMaxShadowCheckedRules + 1);
  EXPECT_TRUE(find_shadowed(set).empty());
}

}  // namespace
}  // namespace cmdgate::rules
