// Policy::evaluate must not allocate once the calling thread is warmed up. The global operator
// new of tests/support/allocation_counter counts this thread's allocations inside the scope;
// Hyperscan allocates with malloc, so the test routes its allocator through the same counter.

#include <gtest/gtest.h>
#include <hs/hs.h>

#include "allocation_counter.h"
#include "policy_test_util.h"
#include "rules/compiled_policy.h"

namespace cmdgate::rules {
namespace {

using test_support::counted_malloc;
using test_support::CountedAllocations;
using test_support::plain_free;
using testing::FakeResolver;
using testing::make_rule;
using testing::OwnedAncestor;
using testing::OwnedContext;
using testing::sha_of;

TEST(EvaluateAllocations, HyperscanPolicyDoesNotAllocateAfterWarmUp) {
  ASSERT_EQ(hs_set_allocator(counted_malloc, plain_free), HS_SUCCESS);
  FakeResolver resolver;
  resolver.add("/usr/bin/nc", FileId{1, 1});
  RuleSet rs;
  for (int i = 0; i < 200; ++i) {
    const std::string n = std::to_string(i);
    rs.rules.push_back(make_rule("p" + n, Action::kDeny, Match{.paths = {"/opt/p" + n}}));
    rs.rules.push_back(
        make_rule("g" + n, Action::kDeny, Match{.path_globs = {"/srv/" + n + "/*"}}));
    rs.rules.push_back(make_rule("a" + n, Action::kAsk, Match{.args = {"^--opt" + n + "=.*x$"}}));
  }
  rs.rules.push_back(make_rule("mixed", Action::kDeny,
                               Match{.paths = {"/usr/bin/nc"},
                                     .sha256 = {sha_of(1)},
                                     .cmdline = {"-e\\s"},
                                     .gids = {27},
                                     .ancestor = {{"sshd", false}, {"/usr/sbin/*", true}},
                                     .cgroup_globs = {"/system.slice/*"}}));
  rs.rules.push_back(
      make_rule("tail", Action::kAudit, Match{.tty = true, .file_kinds = kFileMemfd}));
  auto compiled = compile_policy(std::move(rs), resolver, {MatchEngine::kHyperscan});
  ASSERT_TRUE(compiled.ok());
  const CompiledPolicy& p = **compiled;
  ASSERT_EQ(p.stats().layout.patterns.re2_patterns, 0u);  // RE2::Set would allocate

  std::vector<OwnedContext> owned(6);
  owned[1].path = "/srv/17/x";
  owned[2].argv = {"x", "--opt150=yyx"};
  owned[3].path = "/usr/bin/nc";
  owned[3].file = {1, 1};
  owned[3].sha256 = sha_of(1);
  owned[3].argv = {"nc", "-e", "sh"};
  owned[3].groups = {27};
  owned[3].lineage = {OwnedAncestor{"bash", "/bin/bash"}, OwnedAncestor{"sshd", "/usr/sbin/sshd"}};
  owned[3].cgroup = "/system.slice/ssh.service";
  owned[4].tty = true;
  owned[4].file_kinds = kFileMemfd;
  owned[5].argv = std::vector<std::string>(300, "--opt1=no");
  std::vector<ExecContext> contexts;
  for (OwnedContext& c : owned) {
    contexts.push_back(c.view());
  }
  std::vector<std::string> want;
  for (const ExecContext& ctx : contexts) {  // warm-up: scratch grows to this policy's size
    const Decision d = p.evaluate(ctx);
    want.push_back(d.rule != nullptr ? d.rule->id : "default");
  }
  EXPECT_EQ(want, (std::vector<std::string>{"default", "g17", "a150", "mixed", "tail", "default"}));

  size_t decided = 0;
  size_t allocations = 0;
  {
    const CountedAllocations counted;
    for (int round = 0; round < 100; ++round) {
      for (const ExecContext& ctx : contexts) {
        decided += p.evaluate(ctx).rule != nullptr;
      }
    }
    allocations = counted.count();
  }
  ASSERT_EQ(hs_set_allocator(nullptr, nullptr), HS_SUCCESS);  // back to malloc/free
  EXPECT_EQ(allocations, 0u);
  EXPECT_EQ(decided, 400u);  // four of the six contexts hit a rule
}

// Under unknown facts every rule is tested, on separate per-thread marks: they too must stop
// allocating once grown.
TEST(EvaluateAllocations, UncertainPathDoesNotAllocateAfterWarmUp) {
  ASSERT_EQ(hs_set_allocator(counted_malloc, plain_free), HS_SUCCESS);
  FakeResolver resolver;
  resolver.add("/usr/bin/nc", FileId{1, 1});
  RuleSet rs;
  for (int i = 0; i < 100; ++i) {
    const std::string n = std::to_string(i);
    rs.rules.push_back(
        make_rule("g" + n, Action::kDeny, Match{.path_globs = {"/srv/" + n + "/*"}}));
    rs.rules.push_back(make_rule("a" + n, Action::kAsk, Match{.args = {"^--opt" + n + "=.*x$"}}));
  }
  rs.rules.push_back(make_rule("mixed", Action::kDeny,
                               Match{.paths = {"/usr/bin/nc"},
                                     .sha256 = {sha_of(1)},
                                     .gids = {27},
                                     .ancestor = {{"sshd", false}, {"/usr/sbin/*", true}},
                                     .cgroup_globs = {"/system.slice/*"}}));
  auto compiled = compile_policy(std::move(rs), resolver, {MatchEngine::kHyperscan});
  ASSERT_TRUE(compiled.ok());
  const CompiledPolicy& p = **compiled;
  ASSERT_EQ(p.stats().layout.patterns.re2_patterns, 0u);  // RE2::Set would allocate

  std::vector<OwnedContext> owned(5);
  owned[0].unknown = kUnknownArgv;
  owned[1].path = "/srv/17/x";
  owned[1].unknown = kUnknownFile;
  owned[2].file = {1, 1};
  owned[2].groups = {27};
  owned[2].lineage = {OwnedAncestor{"bash", "/bin/bash"}, OwnedAncestor{"sshd", "/usr/sbin/sshd"}};
  owned[2].cgroup = "/system.slice/ssh.service";
  owned[2].unknown = kUnknownSha256;
  owned[3].file = {1, 1};
  owned[3].sha256 = sha_of(1);
  owned[3].unknown = kUnknownGroups | kUnknownLineage | kUnknownCgroup;
  owned[4].unknown = kUnknownAll;
  std::vector<ExecContext> contexts;
  for (OwnedContext& c : owned) {
    contexts.push_back(c.view());
  }
  std::vector<std::string> want;
  for (const ExecContext& ctx : contexts) {  // warm-up
    const Decision d = p.evaluate(ctx);
    want.push_back((d.rule != nullptr ? d.rule->id : "default") + (d.uncertain ? "?" : ""));
  }
  EXPECT_EQ(want, (std::vector<std::string>{"a0?", "g0?", "mixed?", "mixed?", "g0?"}));

  size_t uncertain = 0;
  size_t allocations = 0;
  {
    const CountedAllocations counted;
    for (int round = 0; round < 100; ++round) {
      for (const ExecContext& ctx : contexts) {
        uncertain += p.evaluate(ctx).uncertain;
      }
    }
    allocations = counted.count();
  }
  ASSERT_EQ(hs_set_allocator(nullptr, nullptr), HS_SUCCESS);
  EXPECT_EQ(allocations, 0u);
  EXPECT_EQ(uncertain, 500u);
}

}  // namespace
}  // namespace cmdgate::rules
