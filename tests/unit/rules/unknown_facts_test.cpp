// Facts the daemon could not establish (ExecContext::unknown): each predicate that reads one
// might hold, and the strictest outcome still possible decides. Every case is checked against
// the reference evaluator too.

#include <gtest/gtest.h>

#include <thread>

#include "policy_test_util.h"
#include "rules/compiled_policy.h"
#include "rules/reference_evaluator.h"

namespace cmdgate::rules {
namespace {

using testing::FakeResolver;
using testing::make_rule;
using testing::OwnedAncestor;
using testing::OwnedContext;
using testing::sha_of;

class UnknownFacts : public ::testing::TestWithParam<MatchEngine> {
 protected:
  std::shared_ptr<const CompiledPolicy> compile(RuleSet rs) {
    auto p = compile_policy(std::move(rs), resolver_, {GetParam()});
    if (!p.ok()) {
      ADD_FAILURE() << p.error().message;
      return nullptr;
    }
    return std::move(p).value();
  }

  std::shared_ptr<const CompiledPolicy> single(Action action, Match m) {
    RuleSet rs;
    rs.rules.push_back(make_rule("r", action, std::move(m)));
    return compile(std::move(rs));
  }

  // "<rule id or default> <action>[/monitor][ uncertain]", after checking that the reference
  // agrees.
  static std::string outcome(const CompiledPolicy& p, OwnedContext& c) {
    const ExecContext& ctx = c.view();
    const Decision d = p.evaluate(ctx);
    const Decision ref = evaluate_reference(p.rule_set(), p.resolved_paths(), ctx);
    EXPECT_EQ(d.rule, ref.rule);
    EXPECT_EQ(d.action, ref.action);
    EXPECT_EQ(d.mode, ref.mode);
    EXPECT_EQ(d.uncertain, ref.uncertain);
    return fmt::format("{} {}{}{}", d.rule != nullptr ? d.rule->id : "default", to_string(d.action),
                       d.mode == Mode::kMonitor ? "/monitor" : "", d.uncertain ? " uncertain" : "");
  }

  FakeResolver resolver_;
};

INSTANTIATE_TEST_SUITE_P(Engines, UnknownFacts,
                         ::testing::Values(MatchEngine::kRe2, MatchEngine::kHyperscan),
                         testing::engine_name);

TEST_P(UnknownFacts, NoUnknownsDecideByTheFirstRuleThatHolds) {
  resolver_.add("/usr/bin/nc", FileId{3, 42});
  RuleSet rs;
  rs.rules.push_back(make_rule("safe", Action::kAllow, Match{.args = {"^--safe$"}}));
  rs.rules.push_back(make_rule("nc", Action::kAsk, Match{.paths = {"/usr/bin/nc"}}));
  rs.rules.push_back(make_rule("staff", Action::kAudit, Match{.gids = {27}}));
  rs.rules.push_back(make_rule("sshd", Action::kDeny, Match{.parent = {{"sshd", false}}}));
  auto p = compile(std::move(rs));
  OwnedContext c;
  EXPECT_EQ(outcome(*p, c), "default allow");
  c.groups = {27};
  EXPECT_EQ(outcome(*p, c), "staff audit");
  c.file = {3, 42};
  EXPECT_EQ(outcome(*p, c), "nc ask");
  c.argv = {"nc", "--safe"};
  EXPECT_EQ(outcome(*p, c), "safe allow");
}

TEST_P(UnknownFacts, UnknownsNoRuleReadsChangeNothing) {
  RuleSet rs;
  rs.rules.push_back(make_rule("root", Action::kDeny, Match{.uids = {0}}));
  rs.rules.push_back(make_rule("tty", Action::kAsk, Match{.tty = true}));
  auto p = compile(std::move(rs));
  OwnedContext c;
  c.unknown = kUnknownAll;
  EXPECT_EQ(outcome(*p, c), "default allow");
  c.tty = true;
  EXPECT_EQ(outcome(*p, c), "tty ask");
  c.uid = 0;
  EXPECT_EQ(outcome(*p, c), "root deny");
}

TEST_P(UnknownFacts, CutArgvLetsNoEarlierAllowShadowALaterDeny) {
  resolver_.add("/usr/bin/rm", FileId{1, 7});
  RuleSet rs;
  rs.rules.push_back(make_rule("dry-run", Action::kAllow, Match{.args = {"^--dry-run$"}}));
  rs.rules.push_back(make_rule("rm", Action::kDeny, Match{.paths = {"/usr/bin/rm"}}));
  auto p = compile(std::move(rs));
  OwnedContext c;
  c.path = "/usr/bin/rm";
  c.file = {1, 7};
  c.argv = {"rm", "--dry-run", "-rf", "/"};
  EXPECT_EQ(outcome(*p, c), "dry-run allow");
  c.unknown = kUnknownArgv;
  // The allow might hold, the deny certainly does: denied, and by a rule that holds.
  EXPECT_EQ(outcome(*p, c), "rm deny");
}

TEST_P(UnknownFacts, CutArgvMakesEveryArgsAndCmdlinePatternPossible) {
  RuleSet rs;
  rs.rules.push_back(make_rule("dry-run", Action::kAllow, Match{.args = {"^--dry-run$"}}));
  rs.rules.push_back(make_rule("shadow", Action::kDeny, Match{.args = {"^/etc/shadow$"}}));
  auto p = compile(std::move(rs));
  auto q = single(Action::kAsk, Match{.cmdline = {"-e /bin/sh$"}});
  OwnedContext c;
  c.argv = {"cat", "--dry-run", "/etc/sha"};
  EXPECT_EQ(outcome(*p, c), "dry-run allow");
  EXPECT_EQ(outcome(*q, c), "default allow");
  c.unknown = kUnknownArgv;
  EXPECT_EQ(outcome(*p, c), "shadow deny uncertain");
  EXPECT_EQ(outcome(*q, c), "r ask uncertain");
  // Even a pattern that matches the known part might not match the whole.
  c.argv = {"nc", "-e", "/bin/sh"};
  auto anchored_allow = single(Action::kAllow, Match{.cmdline = {"-e /bin/sh$"}});
  EXPECT_EQ(outcome(*anchored_allow, c), "default allow");
  c.unknown = 0;
  EXPECT_EQ(outcome(*anchored_allow, c), "r allow");
}

TEST_P(UnknownFacts, UnknownSha256MightBeADeniedDigest) {
  auto p = single(Action::kDeny, Match{.sha256 = {sha_of(1)}});
  OwnedContext c;
  EXPECT_EQ(outcome(*p, c), "default allow");  // not computed: the policy reads no hash
  c.unknown = kUnknownSha256;
  EXPECT_EQ(outcome(*p, c), "r deny uncertain");
  c.sha256 = sha_of(2);  // not read under the bit
  EXPECT_EQ(outcome(*p, c), "r deny uncertain");
  c.unknown = 0;
  EXPECT_EQ(outcome(*p, c), "default allow");
  c.sha256 = sha_of(1);
  EXPECT_EQ(outcome(*p, c), "r deny");
}

TEST_P(UnknownFacts, UnknownFileMightBeAnExactPath) {
  resolver_.add("/usr/bin/nc", FileId{3, 42});
  auto p = single(Action::kAsk, Match{.paths = {"/usr/bin/nc"}});
  OwnedContext c;
  c.path = "/opt/x";
  c.file = {7, 7};
  EXPECT_EQ(outcome(*p, c), "default allow");
  c.unknown = kUnknownFile;
  EXPECT_EQ(outcome(*p, c), "r ask uncertain");
}

TEST_P(UnknownFacts, UnknownFileMakesGlobsKindsAndDigestsPossible) {
  auto globs = single(Action::kDeny, Match{.path_globs = {"/tmp/**"}});
  auto kinds = single(Action::kDeny, Match{.file_kinds = kFileMemfd});
  auto digests = single(Action::kDeny, Match{.sha256 = {sha_of(1)}});
  OwnedContext c;
  c.sha256 = sha_of(2);
  for (const auto* p : {&globs, &kinds, &digests}) {
    c.unknown = 0;
    EXPECT_EQ(outcome(**p, c), "default allow");
    c.unknown = kUnknownFile;
    EXPECT_EQ(outcome(**p, c), "r deny uncertain");
  }
}

// A path too deep to walk: globs might match it, its identity still decides exact paths.
TEST_P(UnknownFacts, UnknownPathLeavesGlobsOpenAndIdentitiesDecided) {
  resolver_.add("/usr/bin/nc", FileId{3, 42});
  auto glob = single(Action::kDeny, Match{.path_globs = {"/tmp/**"}});
  auto exact = single(Action::kDeny, Match{.paths = {"/usr/bin/nc"}});
  auto kinds = single(Action::kDeny, Match{.file_kinds = kFileMemfd});
  OwnedContext c;
  c.path = "/a/b/target";
  c.file = {7, 7};
  c.unknown = kUnknownPath;
  EXPECT_EQ(outcome(*glob, c), "r deny uncertain");
  EXPECT_EQ(outcome(*exact, c), "default allow");
  EXPECT_EQ(outcome(*kinds, c), "default allow");
  c.file = {3, 42};
  EXPECT_EQ(outcome(*exact, c), "r deny");
}

TEST_P(UnknownFacts, UnknownFileIsNoPathThatDidNotExist) {
  auto p = single(Action::kDeny, Match{.paths = {"/opt/missing"}});
  auto q = single(Action::kDeny, Match{.paths = {"/opt/missing"}, .path_globs = {"/srv/*"}});
  OwnedContext c;
  c.unknown = kUnknownFile;
  EXPECT_EQ(outcome(*p, c), "default allow");
  EXPECT_EQ(outcome(*q, c), "r deny uncertain");  // the glob is an alternative
}

TEST_P(UnknownFacts, KnownGroupMatchStaysCertain) {
  RuleSet rs;
  rs.rules.push_back(make_rule("staff", Action::kAllow, Match{.gids = {27}}));
  rs.rules.push_back(make_rule("rest", Action::kDeny, Match{}));
  auto p = compile(std::move(rs));
  auto q = single(Action::kDeny, Match{.gids = {27}});
  OwnedContext c;
  c.unknown = kUnknownGroups;
  c.groups = {27};
  EXPECT_EQ(outcome(*p, c), "staff allow");
  c.groups = {};
  c.gid = 27;
  EXPECT_EQ(outcome(*p, c), "staff allow");
  EXPECT_EQ(outcome(*q, c), "r deny");
  c.gid = 1000;
  EXPECT_EQ(outcome(*p, c), "rest deny");
  EXPECT_EQ(outcome(*q, c), "r deny uncertain");
  c.unknown = 0;
  EXPECT_EQ(outcome(*q, c), "default allow");
}

TEST_P(UnknownFacts, RecordedAncestorMatchStaysCertain) {
  RuleSet rs;
  rs.rules.push_back(make_rule("ssh", Action::kAllow, Match{.ancestor = {{"sshd", false}}}));
  rs.rules.push_back(make_rule("rest", Action::kAsk, Match{}));
  auto p = compile(std::move(rs));
  auto parent = single(Action::kDeny, Match{.parent = {{"/usr/sbin/sshd", true}}});
  OwnedContext c;
  c.unknown = kUnknownLineage;
  c.lineage = {OwnedAncestor{"bash", "/bin/bash"}, OwnedAncestor{"sshd", "/usr/sbin/sshd"}};
  EXPECT_EQ(outcome(*p, c), "ssh allow");
  EXPECT_EQ(outcome(*parent, c), "r deny uncertain");
  c.lineage = {OwnedAncestor{"sshd", "/usr/sbin/sshd"}};
  EXPECT_EQ(outcome(*parent, c), "r deny");
  c.lineage = {OwnedAncestor{"bash", "/bin/bash"}};
  EXPECT_EQ(outcome(*p, c), "rest ask");
  c.lineage = {};
  EXPECT_EQ(outcome(*parent, c), "r deny uncertain");
  c.unknown = 0;
  EXPECT_EQ(outcome(*parent, c), "default allow");
}

TEST_P(UnknownFacts, UnknownCgroupMightMatch) {
  auto p = single(Action::kDeny, Match{.cgroup_globs = {"/system.slice/*"}});
  OwnedContext c;
  c.cgroup = "/user.slice";
  EXPECT_EQ(outcome(*p, c), "default allow");
  c.unknown = kUnknownCgroup;
  EXPECT_EQ(outcome(*p, c), "r deny uncertain");
}

TEST_P(UnknownFacts, StrictestPossibleOutcomeDecides) {
  const auto policy = [this](bool with_ask) {
    RuleSet rs;
    rs.rules.push_back(make_rule("audit", Action::kAudit, Match{.args = {"a"}}));
    Rule would_deny = make_rule("would-deny", Action::kDeny, Match{.args = {"b"}});
    would_deny.mode = Mode::kMonitor;
    rs.rules.push_back(would_deny);
    if (with_ask) {
      rs.rules.push_back(make_rule("ask", Action::kAsk, Match{.args = {"c"}}));
    }
    rs.rules.push_back(make_rule("rest", Action::kAllow, Match{}));
    return compile(std::move(rs));
  };
  auto p = policy(true);
  auto q = policy(false);
  OwnedContext c;
  c.unknown = kUnknownArgv;
  EXPECT_EQ(outcome(*p, c), "ask ask uncertain");                  // effect ask beats effect audit
  EXPECT_EQ(outcome(*q, c), "would-deny deny/monitor uncertain");  // then action deny > audit
}

TEST_P(UnknownFacts, TiesGoToTheCertainOutcomeThenTheEarlierRule) {
  const auto policy = [this](Action maybe, Action certain) {
    RuleSet rs;
    rs.rules.push_back(make_rule("m1", maybe, Match{.args = {"a"}}));
    rs.rules.push_back(make_rule("m2", maybe, Match{.args = {"b"}}));
    rs.rules.push_back(make_rule("yes", certain, Match{}));
    return compile(std::move(rs));
  };
  auto deny_deny = policy(Action::kDeny, Action::kDeny);
  auto ask_allow = policy(Action::kAsk, Action::kAllow);
  OwnedContext c;
  c.unknown = kUnknownArgv;
  EXPECT_EQ(outcome(*deny_deny, c), "yes deny");
  EXPECT_EQ(outcome(*ask_allow, c), "m1 ask uncertain");
}

TEST_P(UnknownFacts, RulesAfterTheFirstCertainOneAreNotPossible) {
  RuleSet rs;
  rs.rules.push_back(make_rule("alice", Action::kAllow, Match{.uids = {1000}}));
  rs.rules.push_back(make_rule("shadow", Action::kDeny, Match{.args = {"shadow"}}));
  auto p = compile(std::move(rs));
  OwnedContext c;
  c.unknown = kUnknownArgv;
  EXPECT_EQ(outcome(*p, c), "alice allow");
  c.uid = 1001;
  EXPECT_EQ(outcome(*p, c), "shadow deny uncertain");
}

TEST_P(UnknownFacts, DefaultIsPossibleUntilARuleCertainlyHolds) {
  RuleSet strict;
  strict.default_action = Action::kDeny;
  strict.rules.push_back(make_rule("r", Action::kAsk, Match{.args = {"x"}}));
  auto p = compile(std::move(strict));
  auto q = single(Action::kAudit, Match{.args = {"x"}});
  OwnedContext c;
  c.unknown = kUnknownArgv;
  EXPECT_EQ(outcome(*p, c), "default deny");
  EXPECT_EQ(outcome(*q, c), "r audit uncertain");
}

TEST_P(UnknownFacts, ConcurrentEvaluationsAgree) {
  RuleSet rs;
  for (int i = 0; i < 50; ++i) {
    const std::string n = std::to_string(i);
    rs.rules.push_back(make_rule("a" + n, Action::kAudit, Match{.args = {"^--opt" + n + "="}}));
    rs.rules.push_back(
        make_rule("g" + n, Action::kDeny, Match{.path_globs = {"/opt/" + n + "/*"}}));
  }
  auto p = compile(std::move(rs));
  auto work = [&p](int seed, int* failures) {
    OwnedContext c;
    for (int k = 0; k < 2000; ++k) {
      const int i = (seed * 7 + k) % 60;
      c.argv = {"cmd", "--opt" + std::to_string(i) + "="};
      c.path = "/opt/" + std::to_string(i) + "/bin";
      const bool cut = k % 2 == 0;
      c.unknown = cut ? kUnknownArgv : kUnknownFile;
      const Decision d = p->evaluate(c.view());
      // Cut argv: every args rule (audit) might hold; the glob that holds denies.
      // Unknown file: every glob (deny) might hold, so g0 denies unless a0 holds first.
      const std::string want = cut ? (i < 50 ? "g" + std::to_string(i) : "a0") : (i == 0 ? "a0" : "g0");
      const bool uncertain = cut ? i >= 50 : i != 0;
      if ((d.rule != nullptr ? d.rule->id : "default") != want || d.uncertain != uncertain) {
        ++*failures;
      }
    }
  };
  std::vector<std::thread> threads;
  std::vector<int> failures(4, 0);
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back(work, t, &failures[static_cast<size_t>(t)]);
  }
  for (auto& t : threads) {
    t.join();
  }
  for (int f : failures) {
    EXPECT_EQ(f, 0);
  }
}

TEST(UnknownNames, OneNamePerBit) {
  EXPECT_STREQ(to_string(kUnknownFile), "file");
  EXPECT_STREQ(to_string(kUnknownSha256), "sha256");
  EXPECT_STREQ(to_string(kUnknownArgv), "argv");
  EXPECT_STREQ(to_string(kUnknownGroups), "groups");
  EXPECT_STREQ(to_string(kUnknownCgroup), "cgroup");
  EXPECT_STREQ(to_string(kUnknownLineage), "lineage");
  EXPECT_STREQ(to_string(kUnknownPath), "path");
  EXPECT_STREQ(to_string(kUnknownAgent), "agent");
  EXPECT_STREQ(to_string(kUnknownTrust), "trust");
  EXPECT_EQ(kUnknownAll,
            static_cast<uint32_t>(kUnknownFile | kUnknownSha256 | kUnknownArgv | kUnknownGroups |
                                  kUnknownCgroup | kUnknownLineage | kUnknownPath |
                                  kUnknownAgent | kUnknownTrust));
  EXPECT_STREQ(to_string(static_cast<Unknown>(0)), "?");
  EXPECT_STREQ(to_string(static_cast<Unknown>(kUnknownFile | kUnknownArgv)), "?");
  EXPECT_STREQ(to_string(static_cast<Unknown>(kUnknownAll + 1)), "?");
}

}  // namespace
}  // namespace cmdgate::rules
