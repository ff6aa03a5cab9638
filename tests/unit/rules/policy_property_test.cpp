// Compiled policy == reference evaluator, on random rule sets and random contexts, for every
// engine. Replay a failure with CMDGATE_SEED=<seed printed in the trace>.

#include <gtest/gtest.h>

#include <functional>

#include "policy_test_util.h"
#include "random_patterns.h"
#include "random_world.h"
#include "rules/compiled_policy.h"
#include "rules/reference_evaluator.h"

namespace cmdgate::rules {
namespace {

using testing::FakeResolver;
using testing::OwnedAncestor;
using testing::OwnedContext;
using testing::Random;
using testing::sha_of;
using testing::World;

// Rule i's resolved paths, as the paths of a set that holds that rule alone.
RulePaths paths_of_rule(const Policy& p, size_t i) {
  const auto paths = p.resolved_paths().of(i);
  return RulePaths(std::vector<RulePath>(paths.begin(), paths.end()),
                   {static_cast<uint32_t>(paths.size())});
}

std::string esc(std::string_view s) {
  std::string out;
  for (unsigned char c : s) {
    out +=
        c < 0x20 || c >= 0x7f ? fmt::format("\\x{:02x}", c) : std::string(1, static_cast<char>(c));
  }
  return out;
}

std::string list(const std::vector<std::string>& v) {
  std::string out;
  for (const std::string& s : v) {
    out += (out.empty() ? "'" : ", '") + esc(s) + "'";
  }
  return out;
}

std::string describe(const Rule& r) {
  const Match& m = r.match;
  std::string out = fmt::format("{} {}{}:", r.id, to_string(r.action),
                                r.mode ? fmt::format("/{}", to_string(*r.mode)) : "");
  auto add = [&](const char* name, const std::string& text) {
    out += fmt::format(" {}=[{}]", name, text);
  };
  auto procs = [](const std::vector<ProcessPattern>& v) {
    std::vector<std::string> t;
    for (const auto& p : v) {
      t.push_back(p.text);
    }
    return list(t);
  };
  if (!m.paths.empty())
    add("paths", list(m.paths));
  if (!m.path_globs.empty())
    add("globs", list(m.path_globs));
  if (!m.sha256.empty())
    add("sha", fmt::format("{} hashes, first byte {}", m.sha256.size(), m.sha256[0][0]));
  if (m.file_kinds != 0)
    add("kinds", std::to_string(m.file_kinds));
  if (!m.args.empty())
    add("args", list(m.args));
  if (!m.cmdline.empty())
    add("cmdline", list(m.cmdline));
  if (!m.uids.empty())
    add("uids", fmt::format("{}", fmt::join(m.uids, ",")));
  if (!m.gids.empty())
    add("gids", fmt::format("{}", fmt::join(m.gids, ",")));
  if (!m.parent.empty())
    add("parent", procs(m.parent));
  if (!m.ancestor.empty())
    add("ancestor", procs(m.ancestor));
  if (m.tty)
    add("tty", *m.tty ? "true" : "false");
  if (!m.cgroup_globs.empty())
    add("cgroup", list(m.cgroup_globs));
  return out;
}

std::string describe(const OwnedContext& c) {
  std::string lineage;
  for (const auto& a : c.lineage) {
    lineage += fmt::format(" ({}, '{}')", esc(a.comm), esc(a.exe_path));
  }
  return fmt::format(
      "path='{}' file={}:{} sha={} kinds={} argv=[{}] cmdline='{}' uid={} gid={} groups=[{}] "
      "lineage=[{}] tty={} cgroup='{}' unknown={}",
      esc(c.path), c.file.dev, c.file.ino, c.sha256 ? std::to_string((*c.sha256)[0]) : "null",
      c.file_kinds, list(c.argv), c.cmdline ? esc(*c.cmdline) : "<joined>", c.uid, c.gid,
      fmt::join(c.groups, ","), lineage, c.tty, esc(c.cgroup), testing::unknown_names(c.unknown));
}

// A small world: a few files (two hard-linked, one reached through a symlink, one replaced
// since compile time, one that does not exist) that rules and contexts both draw from.
using Evaluator = std::function<Decision(const CompiledPolicy&, const ExecContext&)>;

struct Outcome {
  size_t cases = 0;
  size_t mismatches = 0;
  size_t defaults = 0;
  size_t decided_by_later_rule = 0;       // not the first rule of the set
  std::array<size_t, 12> decided_with{};  // per predicate kind of the deciding rule
  size_t uncertain = 0;
  // Per Unknown bit: contexts whose decision that bit alone would change (with unknowns only).
  std::array<size_t, kUnknownBitCount> changed_by{};
};

// Any mask; none and single bits most often, as the daemon usually misses at most one fact.
uint32_t random_unknowns(Random& rnd) {
  if (rnd.chance(0.2)) {
    return 0;
  }
  if (rnd.chance(0.6)) {
    return 1u << rnd.below(kUnknownBitCount);
  }
  return static_cast<uint32_t>(1 + rnd.below(kUnknownAll));
}

bool same(const Decision& a, const Decision& b) {
  return a.rule == b.rule && a.action == b.action && a.mode == b.mode && a.uncertain == b.uncertain;
}

void count_kinds(const Match& m, std::array<size_t, 12>& k) {
  k[0] += !m.paths.empty();
  k[1] += !m.path_globs.empty();
  k[2] += !m.sha256.empty();
  k[3] += m.file_kinds != 0;
  k[4] += !m.args.empty();
  k[5] += !m.cmdline.empty();
  k[6] += !m.uids.empty();
  k[7] += !m.gids.empty();
  k[8] += !m.parent.empty();
  k[9] += !m.ancestor.empty();
  k[10] += m.tty.has_value();
  k[11] += !m.cgroup_globs.empty();
}

// With unknowns, each context gets a random mask of Unknown bits.
Outcome run(MatchEngine engine, uint64_t seed, int sets, int contexts, const Evaluator& under_test,
            bool report, bool unknowns = false) {
  Random rnd(seed);
  World world(rnd);
  Outcome out;
  for (int s = 0; s < sets; ++s) {
    auto compiled = compile_policy(world.rule_set(), world.resolver(), {engine});
    if (!compiled.ok()) {
      ADD_FAILURE() << compiled.error().message;
      return out;
    }
    const CompiledPolicy& p = **compiled;
    const RuleSet& rs = p.rule_set();
    for (int k = 0; k < contexts; ++k) {
      OwnedContext c = world.context();
      if (unknowns) {
        c.unknown = random_unknowns(rnd);
      }
      const ExecContext& ctx = c.view();
      const Decision want = evaluate_reference(rs, p.resolved_paths(), ctx);
      const Decision got = under_test(p, ctx);
      ++out.cases;
      out.uncertain += want.uncertain;
      if (unknowns && report) {  // mutant runs only count mismatches
        ExecContext alone = ctx;
        alone.unknown = 0;
        const Decision known = evaluate_reference(rs, p.resolved_paths(), alone);
        for (uint32_t bit = 0; bit < kUnknownBitCount; ++bit) {
          alone.unknown = 1u << bit;
          out.changed_by[bit] += !same(known, evaluate_reference(rs, p.resolved_paths(), alone));
        }
      }
      if (want.rule == nullptr) {
        ++out.defaults;
      } else {
        out.decided_by_later_rule += want.rule != &rs.rules[0];
        count_kinds(want.rule->match, out.decided_with);
      }
      if (same(got, want)) {
        continue;
      }
      if (report && ++out.mismatches <= 3) {
        std::string rules;
        for (const Rule& r : rs.rules) {
          rules += "\n  " + describe(r);
        }
        ADD_FAILURE() << fmt::format(
            "set {} context {}: compiled chose {} ({}/{}{}), reference {} ({}/{}{})\ncontext: {}\n"
            "rules (mode {}, default {}):{}",
            s, k, got.rule ? got.rule->id : "default", to_string(got.action), to_string(got.mode),
            got.uncertain ? ", uncertain" : "", want.rule ? want.rule->id : "default",
            to_string(want.action), to_string(want.mode), want.uncertain ? ", uncertain" : "",
            describe(c), to_string(rs.mode), to_string(rs.default_action), rules);
      } else if (!report) {
        ++out.mismatches;  // a mutant run asks only whether one exists
        return out;
      }
    }
  }
  return out;
}

Decision compiled_evaluate(const CompiledPolicy& p, const ExecContext& ctx) {
  return p.evaluate(ctx);
}

class PolicyProperty : public ::testing::TestWithParam<MatchEngine> {};

INSTANTIATE_TEST_SUITE_P(Engines, PolicyProperty,
                         ::testing::Values(MatchEngine::kRe2, MatchEngine::kHyperscan),
                         testing::engine_name);

TEST_P(PolicyProperty, CompiledMatchesReference) {
  const uint64_t seed = testing::test_seed();
  SCOPED_TRACE(fmt::format("CMDGATE_SEED={}", seed));
  const Outcome o = run(GetParam(), seed, testing::property_sets(160), 64, compiled_evaluate, true);
  RecordProperty("cases", std::to_string(o.cases));
  RecordProperty("defaults", std::to_string(o.defaults));
  RecordProperty("decided_by_later_rule", std::to_string(o.decided_by_later_rule));
  RecordProperty("decided_with", fmt::format("{}", fmt::join(o.decided_with, ",")));
  EXPECT_EQ(o.mismatches, 0u);
  if (testing::property_divisor() > 1) {
    return;  // too few sets to judge the generator: the full run does
  }
  EXPECT_GE(o.cases, 10000u);
  // The generator must exercise what it claims to: defaults, later rules, every predicate.
  EXPECT_GT(o.defaults, o.cases / 50);
  EXPECT_LT(o.defaults, o.cases * 9 / 10);
  EXPECT_GT(o.decided_by_later_rule, o.cases / 5);
  for (size_t k = 0; k < o.decided_with.size(); ++k) {
    EXPECT_GT(o.decided_with[k], 20u) << "predicate kind " << k << " rarely decides";
  }
}

TEST_P(PolicyProperty, CompiledMatchesReferenceUnderUnknownFacts) {
  const uint64_t seed = testing::test_seed();
  SCOPED_TRACE(fmt::format("CMDGATE_SEED={}", seed));
  const Outcome o =
      run(GetParam(), seed, testing::property_sets(160), 64, compiled_evaluate, true, true);
  RecordProperty("cases", std::to_string(o.cases));
  RecordProperty("uncertain", std::to_string(o.uncertain));
  RecordProperty("changed_by", fmt::format("{}", fmt::join(o.changed_by, ",")));
  EXPECT_EQ(o.mismatches, 0u);
  if (testing::property_divisor() > 1) {
    return;  // too few sets to judge the generator: the full run does
  }
  EXPECT_GE(o.cases, 10000u);
  // Unknown facts must actually decide: raise outcomes, and each bit change some decisions.
  EXPECT_GT(o.uncertain, o.cases / 20);
  EXPECT_LT(o.uncertain, o.cases * 9 / 10);
  for (uint32_t bit = 0; bit < kUnknownBitCount; ++bit) {
    EXPECT_GT(o.changed_by[bit], o.cases / 100)
        << to_string(static_cast<Unknown>(1u << bit)) << " rarely changes a decision";
  }
}

// The property test is only as good as its power to notice a wrong evaluator. A mutant run stops
// at its first mismatch, so it draws the full number of sets even under CMDGATE_PROPERTY_DIVISOR:
// a few sets can miss a mutant, which would make the check fail by chance.
constexpr int kMutantSets = 120;

TEST(PolicyPropertyHarness, NoticesMutants) {
  const uint64_t seed = testing::test_seed();
  SCOPED_TRACE(fmt::format("CMDGATE_SEED={}", seed));
  const Evaluator last_match_wins = [](const CompiledPolicy& p, const ExecContext& ctx) {
    const RuleSet& rs = p.rule_set();
    for (size_t i = rs.rules.size(); i-- > 0;) {
      RuleSet one;
      one.rules.push_back(rs.rules[i]);
      if (evaluate_reference(one, paths_of_rule(p, i), ctx).rule != nullptr) {
        return Decision{rs.rules[i].action, rs.rules[i].mode.value_or(rs.mode), &rs.rules[i]};
      }
    }
    return Decision{rs.default_action, rs.mode, nullptr};
  };
  const Evaluator ignores_rule_mode = [](const CompiledPolicy& p, const ExecContext& ctx) {
    Decision d = p.evaluate(ctx);
    d.mode = p.rule_set().mode;
    return d;
  };
  const Evaluator wrong_default = [](const CompiledPolicy& p, const ExecContext& ctx) {
    Decision d = p.evaluate(ctx);
    if (d.rule == nullptr) {
      d.action = static_cast<Action>((static_cast<int>(d.action) + 1) % 4);
    }
    return d;
  };
  for (const Evaluator* mutant : {&last_match_wins, &ignores_rule_mode, &wrong_default}) {
    EXPECT_GT(run(MatchEngine::kHyperscan, seed, kMutantSets, 60, *mutant, false).mismatches, 0u);
  }
}

TEST(PolicyPropertyHarness, NoticesUnknownFactMutants) {
  const uint64_t seed = testing::test_seed();
  SCOPED_TRACE(fmt::format("CMDGATE_SEED={}", seed));
  const Evaluator ignores_unknowns = [](const CompiledPolicy& p, const ExecContext& ctx) {
    ExecContext known = ctx;
    known.unknown = 0;
    return p.evaluate(known);
  };
  const Evaluator never_uncertain = [](const CompiledPolicy& p, const ExecContext& ctx) {
    Decision d = p.evaluate(ctx);
    d.uncertain = false;
    return d;
  };
  // Roughly the first possible outcome rather than the strictest (a rule that might allow is
  // skipped: alone, it ties with the default).
  const Evaluator first_possible = [](const CompiledPolicy& p, const ExecContext& ctx) {
    const RuleSet& rs = p.rule_set();
    for (size_t i = 0; i < rs.rules.size(); ++i) {
      RuleSet one;
      one.mode = rs.mode;
      one.default_action = Action::kAllow;
      one.rules.push_back(rs.rules[i]);
      const Decision d = evaluate_reference(one, paths_of_rule(p, i), ctx);
      if (d.rule != nullptr) {
        return Decision{d.action, d.mode, &rs.rules[i], d.uncertain};
      }
    }
    return Decision{rs.default_action, rs.mode, nullptr};
  };
  for (const Evaluator* mutant : {&ignores_unknowns, &never_uncertain, &first_possible}) {
    EXPECT_GT(run(MatchEngine::kHyperscan, seed, kMutantSets, 60, *mutant, false, true).mismatches,
              0u);
  }
}

}  // namespace
}  // namespace cmdgate::rules
