#include "rules/compiled_policy.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <fstream>
#include <thread>

#include "policy_test_util.h"
#include "processes.h"
#include "rules/reference_evaluator.h"

namespace cmdgate::rules {
namespace {

using testing::FakeResolver;
using testing::make_rule;
using testing::OwnedAncestor;
using testing::OwnedContext;
using testing::sha_of;

class CompiledPolicyTest : public ::testing::TestWithParam<MatchEngine> {
 protected:
  std::shared_ptr<const CompiledPolicy> compile(RuleSet rs) {
    auto p = compile_policy(std::move(rs), resolver_, {GetParam()});
    if (!p.ok()) {
      ADD_FAILURE() << p.error().message;
      return nullptr;
    }
    return std::move(p).value();
  }

  // One deny rule "r" over the given match, default allow.
  std::shared_ptr<const CompiledPolicy> single(Match m) {
    RuleSet rs;
    rs.rules.push_back(make_rule("r", Action::kDeny, std::move(m)));
    return compile(std::move(rs));
  }

  // The compiled decision, after checking that the reference agrees with it.
  Decision decide(const CompiledPolicy& p, OwnedContext& c) {
    const ExecContext& ctx = c.view();
    const Decision d = p.evaluate(ctx);
    const Decision ref = evaluate_reference(p.rule_set(), p.resolved_paths(), ctx);
    EXPECT_EQ(d.rule, ref.rule);
    EXPECT_EQ(d.action, ref.action);
    EXPECT_EQ(d.mode, ref.mode);
    EXPECT_EQ(d.uncertain, ref.uncertain);
    return d;
  }

  // The deciding rule's id, or "default".
  std::string winner(const CompiledPolicy& p, OwnedContext& c) {
    const Decision d = decide(p, c);
    return d.rule != nullptr ? d.rule->id : "default";
  }

  bool matches(const CompiledPolicy& p, OwnedContext& c) { return winner(p, c) == "r"; }

  FakeResolver resolver_;
};

INSTANTIATE_TEST_SUITE_P(Engines, CompiledPolicyTest,
                         ::testing::ValuesIn(testing::engines_under_test()),
                         testing::engine_name);

TEST_P(CompiledPolicyTest, EmptyRuleSetGivesDefault) {
  RuleSet rs;
  rs.default_action = Action::kAudit;
  rs.mode = Mode::kMonitor;
  auto p = compile(std::move(rs));
  OwnedContext c;
  const Decision d = decide(*p, c);
  EXPECT_EQ(d.rule, nullptr);
  EXPECT_EQ(d.action, Action::kAudit);
  EXPECT_EQ(d.mode, Mode::kMonitor);
}

TEST_P(CompiledPolicyTest, NoMatchGivesDefaultAction) {
  RuleSet rs;
  rs.default_action = Action::kDeny;
  rs.rules.push_back(make_rule("r", Action::kAllow, Match{.paths = {"/usr/bin/nc"}}));
  auto p = compile(std::move(rs));
  OwnedContext c;
  const Decision d = decide(*p, c);
  EXPECT_EQ(d.rule, nullptr);
  EXPECT_EQ(d.action, Action::kDeny);
  EXPECT_EQ(d.mode, Mode::kEnforce);
}

TEST_P(CompiledPolicyTest, FirstMatchInListOrderWins) {
  resolver_.add("/usr/bin/true", FileId{1, 1});
  RuleSet rs;
  // The caller sorts by priority; the compiler must keep list order whatever the anchors.
  rs.rules.push_back(make_rule("uid", Action::kAudit, Match{.uids = {1000}}));
  rs.rules.push_back(make_rule("glob", Action::kDeny, Match{.path_globs = {"/usr/bin/*"}}));
  rs.rules.push_back(make_rule("path", Action::kAllow, Match{.paths = {"/usr/bin/true"}}));
  rs.rules.push_back(make_rule("any", Action::kAsk, Match{}));
  auto p = compile(std::move(rs));
  OwnedContext c;
  EXPECT_EQ(winner(*p, c), "uid");
  c.uid = 0;
  EXPECT_EQ(winner(*p, c), "glob");
  c.path = "/opt/true";
  EXPECT_EQ(winner(*p, c), "path");  // by identity: same FileId
  c.file = {7, 7};
  EXPECT_EQ(winner(*p, c), "any");
}

TEST_P(CompiledPolicyTest, LaterRuleWithCheaperAnchorDoesNotJumpTheQueue) {
  resolver_.add("/usr/bin/true", FileId{9, 9});
  RuleSet rs;
  rs.rules.push_back(make_rule("args", Action::kAudit, Match{.args = {"^-x$"}}));
  rs.rules.push_back(make_rule("path", Action::kDeny, Match{.paths = {"/usr/bin/true"}}));
  auto p = compile(std::move(rs));
  OwnedContext c;
  c.file = {9, 9};
  c.argv = {"true", "-x"};
  EXPECT_EQ(winner(*p, c), "args");
  c.argv = {"true", "-y"};
  EXPECT_EQ(winner(*p, c), "path");
}

TEST_P(CompiledPolicyTest, OnlyEmptyMatchesAreCandidatesForEveryExec) {
  RuleSet rs;
  for (Match m :
       {Match{.paths = {"/x"}}, Match{.path_globs = {"/x/*"}}, Match{.sha256 = {sha_of(1)}},
        Match{.args = {"a"}}, Match{.cmdline = {"a"}}, Match{.uids = {1}}, Match{.gids = {1}},
        Match{.parent = {{"sh", false}}}, Match{.ancestor = {{"/bin/*", true}}}, Match{.tty = true},
        Match{.cgroup_globs = {"/s/*"}}, Match{.file_kinds = kFileMemfd}, Match{}}) {
    rs.rules.push_back(make_rule("r" + std::to_string(rs.rules.size()), Action::kDeny, m));
  }
  auto p = compile(std::move(rs));
  const auto& anchored = p->stats().layout.anchored;
  for (size_t a = 0; a < anchored.size(); ++a) {
    EXPECT_EQ(anchored[a], 1u) << "anchor " << a;
  }
  OwnedContext c;
  EXPECT_EQ(winner(*p, c), "r12");  // only the empty match holds
  c.lineage = {OwnedAncestor{"sh", ""}};
  EXPECT_EQ(winner(*p, c), "r7");
}

TEST_P(CompiledPolicyTest, RulePointsIntoPolicyRuleSet) {
  RuleSet rs;
  rs.rules.push_back(make_rule("a", Action::kDeny, Match{.uids = {1}}));
  rs.rules.push_back(make_rule("b", Action::kDeny, Match{.uids = {1000}}));
  auto p = compile(std::move(rs));
  OwnedContext c;
  EXPECT_EQ(decide(*p, c).rule, &p->rule_set().rules[1]);
}

TEST_P(CompiledPolicyTest, ExactPathMatchesHardLinkByIdentity) {
  resolver_.add("/usr/bin/nc", FileId{3, 42});
  auto p = single(Match{.paths = {"/usr/bin/nc"}});
  OwnedContext c;
  c.path = "/usr/bin/netcat";  // another name of the same inode
  c.file = {3, 42};
  EXPECT_TRUE(matches(*p, c));
  c.file = {3, 43};
  EXPECT_FALSE(matches(*p, c));
  ASSERT_EQ(p->resolved_paths().rule_count(), 1u);
  ASSERT_EQ(p->resolved_paths().of(0).size(), 1u);
  EXPECT_EQ(p->resolved_paths().of(0)[0].id, (FileId{3, 42}));
}

// Exact paths are identities: a path string alone never matches, so renaming, hard links and
// symlinks cannot dodge a rule, and a replaced file is covered once the daemon recompiles.
TEST_P(CompiledPolicyTest, ExactPathMatchesTheResolvedIdentityOnly) {
  resolver_.add("/usr/bin/tool", FileId{3, 10}, "/usr/lib/tool-1.2/tool");
  auto p = single(Match{.paths = {"/usr/bin/tool"}});
  OwnedContext c;
  c.path = "/usr/lib/tool-1.2/tool";  // upgraded in place: new inode, same path
  c.file = {3, 99};
  EXPECT_FALSE(matches(*p, c));
  c.path = "/anywhere/else";
  c.file = {3, 10};
  EXPECT_TRUE(matches(*p, c));
}

// A policy keeps what each exact path resolved to, not the path again: the realpath only where it
// differs, and the path as written comes from the rule.
TEST_P(CompiledPolicyTest, APolicyKeepsEachPathsRealpathOnlyWhereItDiffers) {
  resolver_.add("/usr/bin/tool", FileId{3, 10}, "/usr/lib/tool-1.2/tool");
  resolver_.add("/usr/bin/plain", FileId{3, 11});
  auto p = single(Match{.paths = {"/usr/bin/tool", "/usr/bin/plain", "/opt/missing"}});
  std::vector<std::string> seen;
  for_each_rule_path(*p, [&](size_t rule, const std::string& written, const RulePath& rp) {
    EXPECT_EQ(rule, 0u);
    seen.push_back(written + " -> " + rp.canonical(written));
  });
  EXPECT_EQ(seen, (std::vector<std::string>{"/usr/bin/tool -> /usr/lib/tool-1.2/tool",
                                            "/usr/bin/plain -> /usr/bin/plain",
                                            "/opt/missing -> /opt/missing"}));
  EXPECT_EQ(p->resolved_paths().size(), 3u);
  EXPECT_LE(sizeof(RulePath), 32u) << "kept for every exact path while the policy is in force";
}

// One `path` list: exact paths and globs are alternatives, not both required.
TEST_P(CompiledPolicyTest, ExactPathsAndGlobsInOneListAreAlternatives) {
  resolver_.add("/usr/sbin/nginx", FileId{4, 1});
  auto p = single(Match{.paths = {"/usr/sbin/nginx"}, .path_globs = {"/usr/lib/nginx/**"}});
  OwnedContext c;
  c.path = "/usr/sbin/nginx";
  c.file = {4, 1};
  EXPECT_TRUE(matches(*p, c));
  c.path = "/usr/lib/nginx/modules/x";
  c.file = {4, 2};
  EXPECT_TRUE(matches(*p, c));
  c.path = "/usr/bin/other";
  EXPECT_FALSE(matches(*p, c));
}

TEST_P(CompiledPolicyTest, ExactPathThatDoesNotExistMatchesNothing) {
  auto p = single(Match{.paths = {"/opt/missing"}});
  ASSERT_FALSE(p->resolved_paths().of(0)[0].id.has_value());
  OwnedContext c;
  c.path = "/opt/missing";
  c.file = {0, 0};
  EXPECT_FALSE(matches(*p, c));
}

// A path the resolver did not answer for is unknown, not a file that does not exist: the policy
// does not compile (the one in force stays).
TEST_P(CompiledPolicyTest, AResolverThatAnswersFewerPathsFailsTheCompile) {
  class Forgetful final : public FileResolver {
   public:
    std::optional<FileId> identity(const std::string& path) const override {
      return inner_.identity(path);
    }
    std::string canonical(const std::string& path) const override { return inner_.canonical(path); }
    std::vector<std::string> expand(const std::string& glob) const override {
      return inner_.expand(glob);
    }
    std::vector<ResolvedPath> resolve(std::vector<std::string> paths) const override {
      std::vector<ResolvedPath> out = FileResolver::resolve(std::move(paths));
      out.pop_back();
      return out;
    }

   private:
    FakeResolver inner_;
  };
  RuleSet rs;
  rs.rules.push_back(make_rule("a", Action::kAllow, Match{.paths = {"/usr/bin/a"}}));
  rs.rules.push_back(make_rule("b", Action::kDeny, Match{.paths = {"/usr/bin/b"}}));
  auto p = compile_policy(std::move(rs), Forgetful(), {GetParam()});
  ASSERT_FALSE(p.ok());
  EXPECT_THAT(p.error().message, ::testing::HasSubstr("1 answers for 2 paths"));
}

TEST_P(CompiledPolicyTest, PathGlobs) {
  auto p = single(Match{.path_globs = {"/tmp/*", "/home/**/.cache/**", "/srv/app", "/dev/shm/**"}});
  OwnedContext c;
  for (const char* yes : {"/tmp/x", "/home/a/b/.cache/c/d", "/srv/app", "/dev/shm/a/b"}) {
    c.path = yes;
    EXPECT_TRUE(matches(*p, c)) << yes;
  }
  for (const char* no : {"/tmp/a/b", "/home/a/cache/x", "/srv/app2", "/dev/shmx", "/tmp"}) {
    c.path = no;
    EXPECT_FALSE(matches(*p, c)) << no;
  }
}

TEST_P(CompiledPolicyTest, GlobsTreatPathsAsBytes) {
  auto p = single(Match{.path_globs = {"/tmp/*", "/var/**"}});
  OwnedContext c;
  // Invalid UTF-8 and newlines must not let a file escape a glob.
  for (const char* yes : {"/tmp/\xff\xfe", "/tmp/a\nb", "/var/x/\x80/\ny", "/tmp/caf\xc3\xa9"}) {
    c.path = yes;
    EXPECT_TRUE(matches(*p, c));
  }
  auto q = single(Match{.path_globs = {"/bin/?"}});
  c.path = "/bin/\xc3\xa9";  // two bytes: '?' is one byte
  EXPECT_FALSE(matches(*q, c));
  c.path = "/bin/\xff";
  EXPECT_TRUE(matches(*q, c));
}

TEST_P(CompiledPolicyTest, Sha256) {
  auto p = single(Match{.sha256 = {sha_of(1), sha_of(2)}});
  OwnedContext c;
  EXPECT_FALSE(matches(*p, c));  // not computed
  c.sha256 = sha_of(2);
  EXPECT_TRUE(matches(*p, c));
  c.sha256 = sha_of(3);
  EXPECT_FALSE(matches(*p, c));
}

TEST_P(CompiledPolicyTest, FileKinds) {
  auto p = single(Match{.file_kinds = kFileMemfd});
  auto q = single(Match{.file_kinds = kFileMemfd | kFileDeleted});
  OwnedContext c;
  EXPECT_FALSE(matches(*p, c));
  c.file_kinds = kFileDeleted;
  EXPECT_FALSE(matches(*p, c));
  EXPECT_TRUE(matches(*q, c));
  c.file_kinds = kFileMemfd | kFileDeleted;
  EXPECT_TRUE(matches(*p, c));
}

TEST_P(CompiledPolicyTest, ArgsSkipArgv0AndSearchUnanchored) {
  auto p = single(Match{.args = {"-rf", "^--force$"}});
  OwnedContext c;
  c.argv = {"-rf"};
  EXPECT_FALSE(matches(*p, c));
  c.argv = {"rm", "x", "-rfv"};
  EXPECT_TRUE(matches(*p, c));
  c.argv = {"rm", "--force"};
  EXPECT_TRUE(matches(*p, c));
  c.argv = {"rm", "--force\n"};  // RE2's '$' is the end of text, not before a final newline
  EXPECT_FALSE(matches(*p, c));
  c.argv = {"rm", "x --force"};  // each element on its own
  EXPECT_FALSE(matches(*p, c));
}

TEST_P(CompiledPolicyTest, EmptyArgvMatchesNoArgsPattern) {
  auto p = single(Match{.args = {""}});  // the empty pattern matches any argument
  OwnedContext c;
  c.argv = {};
  c.cmdline = "";
  EXPECT_FALSE(matches(*p, c));
  c.argv = {"only-argv0"};
  EXPECT_FALSE(matches(*p, c));
  c.argv = {"x", ""};
  EXPECT_TRUE(matches(*p, c));
  auto q = single(Match{.cmdline = {"^$"}});
  c.argv = {};
  c.cmdline = "";
  EXPECT_TRUE(matches(*q, c));
}

TEST_P(CompiledPolicyTest, InvalidUtf8ArgvIsMatchedAsBytes) {
  auto p = single(Match{.args = {"^a.b$", "\xff"}});
  OwnedContext c;
  c.argv = {"x",
            "a\xc3"
            "b"};
  EXPECT_TRUE(matches(*p, c));
  c.argv = {"x", "\xfe\xff"};
  EXPECT_TRUE(matches(*p, c));
  auto q = single(Match{.cmdline = {"curl.*\\|.*sh"}});
  c.argv = {"curl", "http://x", "\xc3\x28", "|", "sh"};
  EXPECT_TRUE(matches(*q, c));
  c.argv = {"x",
            "a\xc3\xa9"
            "b"};  // one character, two bytes
  EXPECT_FALSE(matches(*p, c));
}

TEST_P(CompiledPolicyTest, Cmdline) {
  auto p = single(Match{.cmdline = {"bash -c .*curl"}});
  OwnedContext c;
  c.argv = {"bash", "-c", "echo; curl x"};
  EXPECT_TRUE(matches(*p, c));
  c.argv = {"bash", "-c", "echo"};
  EXPECT_FALSE(matches(*p, c));
}

TEST_P(CompiledPolicyTest, RegexSyntaxThatHyperscanCannotTakeStillMatches) {
  // \pL (Unicode class), (?i) with a non-ASCII byte, \C, an embedded end anchor.
  auto p = single(Match{.args = {"^\\pL\\d$", "(?i)caf\xc3\xa9", "^x\\C\\Cx$", "a$b", "x\\sy"}});
  OwnedContext c;
  for (const char* yes : {"q7", "CAF\xc3\xa9", "x\xff\xfex", "x\ty"}) {
    c.argv = {"cmd", yes};
    EXPECT_TRUE(matches(*p, c)) << yes;
  }
  for (const char* no : {"77", "CAF\xc3\x89", "x\xffx", "ab", "x\vy"}) {
    c.argv = {"cmd", no};
    EXPECT_FALSE(matches(*p, c)) << no;
  }
  const MatcherStats& s = p->stats().layout.patterns;
  EXPECT_EQ(s.re2_patterns + s.hyperscan_patterns, 5u);
  if (GetParam() != MatchEngine::kRe2) {
    EXPECT_EQ(s.hyperscan_patterns, 1u);  // only x\sy
  }
}

TEST_P(CompiledPolicyTest, UidsAndGids) {
  auto p = single(Match{.uids = {0, 1000}});
  auto q = single(Match{.gids = {27}});
  OwnedContext c;
  EXPECT_TRUE(matches(*p, c));
  c.uid = 1001;
  EXPECT_FALSE(matches(*p, c));
  EXPECT_FALSE(matches(*q, c));
  c.groups = {4, 27};
  EXPECT_TRUE(matches(*q, c));
  c.groups = {};
  c.gid = 27;
  EXPECT_TRUE(matches(*q, c));
}

TEST_P(CompiledPolicyTest, ParentAndAncestor) {
  auto p = single(Match{.parent = {{"sshd", false}, {"/usr/sbin/cron*", true}}});
  auto q = single(Match{.ancestor = {{"/usr/bin/python3*", true}}});
  OwnedContext c;
  EXPECT_FALSE(matches(*p, c));  // no lineage
  EXPECT_FALSE(matches(*q, c));
  c.lineage = {OwnedAncestor{"bash", "/usr/bin/bash"}, OwnedAncestor{"sshd", "/usr/sbin/sshd"}};
  EXPECT_FALSE(matches(*p, c));  // sshd is the grandparent
  c.lineage = {OwnedAncestor{"sshd", ""}, OwnedAncestor{"x", "/usr/bin/python3.11"}};
  EXPECT_TRUE(matches(*p, c));
  EXPECT_TRUE(matches(*q, c));
  c.lineage = {OwnedAncestor{"cron", "/usr/sbin/cron"}};
  EXPECT_TRUE(matches(*p, c));
  EXPECT_FALSE(matches(*q, c));
  // An unknown exe path never matches, even a glob that would match the empty string's parent.
  auto r = single(Match{.ancestor = {{"/**", true}}});
  c.lineage = {OwnedAncestor{"x", ""}};
  EXPECT_FALSE(matches(*r, c));
  c.lineage = {OwnedAncestor{"x", ""}, OwnedAncestor{"y", "/init"}};
  EXPECT_TRUE(matches(*r, c));
}

TEST_P(CompiledPolicyTest, TtyAndCgroup) {
  auto p = single(Match{.tty = true});
  auto q = single(Match{.tty = false});
  auto r = single(Match{.cgroup_globs = {"/system.slice/*.service"}});
  OwnedContext c;
  EXPECT_FALSE(matches(*p, c));
  EXPECT_TRUE(matches(*q, c));
  c.tty = true;
  EXPECT_TRUE(matches(*p, c));
  EXPECT_FALSE(matches(*q, c));
  EXPECT_FALSE(matches(*r, c));
  c.cgroup = "/system.slice/nginx.service";
  EXPECT_TRUE(matches(*r, c));
  c.cgroup = "/system.slice/a/nginx.service";
  EXPECT_FALSE(matches(*r, c));
}

TEST_P(CompiledPolicyTest, PredicatesAreAndedElementsOred) {
  auto p = single(Match{.path_globs = {"/usr/bin/*"}, .args = {"^-e$", "^-c$"}, .uids = {0}});
  OwnedContext c;
  c.path = "/usr/bin/nc";
  c.file = {5, 5};
  c.argv = {"nc", "-e", "/bin/sh"};
  c.uid = 0;
  EXPECT_TRUE(matches(*p, c));
  c.argv = {"nc", "-c", "/bin/sh"};
  EXPECT_TRUE(matches(*p, c));
  c.uid = 1;
  EXPECT_FALSE(matches(*p, c));
  c.uid = 0;
  c.path = "/opt/nc";
  EXPECT_FALSE(matches(*p, c));
  c.path = "/usr/bin/nc";
  c.argv = {"nc", "-l"};
  EXPECT_FALSE(matches(*p, c));
}

TEST_P(CompiledPolicyTest, ModesAndEffect) {
  RuleSet rs;
  rs.mode = Mode::kMonitor;
  rs.rules.push_back(make_rule("deny", Action::kDeny, Match{.uids = {1}}));
  rs.rules.push_back(make_rule("ask", Action::kAsk, Match{.uids = {2}}));
  Rule enforced = make_rule("enforced", Action::kDeny, Match{.uids = {3}});
  enforced.mode = Mode::kEnforce;
  rs.rules.push_back(enforced);
  rs.rules.push_back(make_rule("allow", Action::kAllow, Match{.uids = {4}}));
  auto p = compile(std::move(rs));
  OwnedContext c;
  c.uid = 1;
  Decision d = decide(*p, c);
  EXPECT_EQ(d.action, Action::kDeny);
  EXPECT_EQ(d.mode, Mode::kMonitor);
  EXPECT_EQ(d.effect(), Action::kAudit);
  EXPECT_TRUE(d.would_block());
  c.uid = 2;
  d = decide(*p, c);
  EXPECT_EQ(d.effect(), Action::kAudit);
  c.uid = 3;
  d = decide(*p, c);
  EXPECT_EQ(d.mode, Mode::kEnforce);
  EXPECT_EQ(d.effect(), Action::kDeny);
  c.uid = 4;
  d = decide(*p, c);
  EXPECT_EQ(d.effect(), Action::kAllow);
  EXPECT_FALSE(d.would_block());
  c.uid = 5;
  d = decide(*p, c);
  EXPECT_EQ(d.rule, nullptr);
  EXPECT_EQ(d.mode, Mode::kMonitor);
}

TEST_P(CompiledPolicyTest, Needs) {
  EXPECT_EQ(single(Match{.paths = {"/x"}, .args = {"a"}})->needs(), 0u);
  EXPECT_EQ(single(Match{.sha256 = {sha_of(1)}})->needs(), kNeedSha256);
  EXPECT_EQ(single(Match{.gids = {1}})->needs(), kNeedGroups);
  EXPECT_EQ(single(Match{.cgroup_globs = {"/x"}})->needs(), kNeedCgroup);
  EXPECT_EQ(single(Match{.parent = {{"bash", false}}})->needs(), 0u);
  EXPECT_EQ(single(Match{.ancestor = {{"bash", false}, {"/bin/*", true}}})->needs(),
            kNeedLineagePaths);
  RuleSet rs;
  rs.rules.push_back(make_rule("a", Action::kDeny, Match{.sha256 = {sha_of(1)}}));
  rs.rules.push_back(make_rule("b", Action::kDeny, Match{.gids = {1}, .parent = {{"/x", true}}}));
  EXPECT_EQ(compile(std::move(rs))->needs(), kNeedSha256 | kNeedGroups | kNeedLineagePaths);
}

TEST_P(CompiledPolicyTest, InvalidPatternsFailToCompile) {
  for (Match m :
       {Match{.args = {"("}}, Match{.cmdline = {"a{2}{3}"}}, Match{.path_globs = {"/a[bc"}},
        Match{.cgroup_globs = {"/x\\"}}, Match{.parent = {{"[", false}}}}) {
    RuleSet rs;
    rs.rules.push_back(make_rule("r", Action::kDeny, m));
    EXPECT_FALSE(compile_policy(std::move(rs), resolver_, {GetParam()}).ok());
  }
}

TEST_P(CompiledPolicyTest, ConcurrentEvaluationsAgree) {
  RuleSet rs;
  for (int i = 0; i < 50; ++i) {
    rs.rules.push_back(make_rule("a" + std::to_string(i), Action::kDeny,
                                 Match{.args = {"^--opt" + std::to_string(i) + "=.*x"}}));
    rs.rules.push_back(make_rule("g" + std::to_string(i), Action::kAudit,
                                 Match{.path_globs = {"/opt/app" + std::to_string(i) + "/*"}}));
  }
  auto p = compile(std::move(rs));
  auto work = [&p](int seed, int* failures) {
    OwnedContext c;
    for (int k = 0; k < 2000; ++k) {
      const int i = (seed * 7 + k) % 60;
      c.argv = {"cmd", "--opt" + std::to_string(i) + "=yx"};
      c.path = "/opt/app" + std::to_string(i) + "/bin";
      c.file = {2, static_cast<uint64_t>(k)};
      const Decision d = p->evaluate(c.view());
      const std::string want = i < 50 ? "a" + std::to_string(i) : "default";
      if ((d.rule != nullptr ? d.rule->id : "default") != want) {
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

TEST(CombineScript, StricterEffectWinsTieGoesToScript) {
  RuleSet rs;
  rs.rules.push_back(make_rule("s", Action::kDeny, Match{}));
  rs.rules.push_back(make_rule("i", Action::kDeny, Match{}));
  const Rule* s = &rs.rules[0];
  const Rule* i = &rs.rules[1];
  auto pick = [&](Decision script, Decision interp) { return combine_script(script, interp).rule; };
  EXPECT_EQ(pick({Action::kAllow, Mode::kEnforce, s}, {Action::kDeny, Mode::kEnforce, i}), i);
  EXPECT_EQ(pick({Action::kDeny, Mode::kEnforce, s}, {Action::kAsk, Mode::kEnforce, i}), s);
  EXPECT_EQ(pick({Action::kAudit, Mode::kEnforce, s}, {Action::kAudit, Mode::kEnforce, i}), s);
  // Monitor mode: deny only audits, so it ties with an enforced audit and the script wins...
  EXPECT_EQ(pick({Action::kAudit, Mode::kEnforce, s}, {Action::kDeny, Mode::kMonitor, i}), s);
  // ...and loses to an enforced ask.
  EXPECT_EQ(pick({Action::kDeny, Mode::kMonitor, s}, {Action::kAsk, Mode::kEnforce, i}), i);
  EXPECT_EQ(pick({Action::kAllow, Mode::kEnforce, nullptr}, {Action::kAudit, Mode::kMonitor, i}),
            i);
}

TEST(SystemFileResolver, StatAndRealpath) {
  SystemFileResolver r;
  EXPECT_TRUE(r.identity("/").has_value());
  EXPECT_FALSE(r.identity("/nonexistent/cmdgate/path").has_value());
  EXPECT_EQ(r.canonical("/nonexistent/cmdgate/path"), "/nonexistent/cmdgate/path");
  EXPECT_EQ(r.canonical("/usr/../usr/./bin"), "/usr/bin");
  EXPECT_EQ(r.identity("/usr/../usr/bin"), r.identity("/usr/bin"));
}

// resolve() shares each directory between paths; it must give what canonical() and identity()
// give path by path, through every detour a path can take.
TEST(SystemFileResolver, ResolvingManyPathsAgreesWithOneByOne) {
  const test::TempDir tmp;
  const std::string d = tmp.file("d");
  ASSERT_EQ(::mkdir(d.c_str(), 0755), 0);
  ASSERT_EQ(::mkdir((d + "/sub").c_str(), 0755), 0);
  for (const char* file : {"/f", "/sub/g"}) {
    std::ofstream(d + file) << "x";
  }
  ASSERT_EQ(::symlink("f", (d + "/link-f").c_str()), 0);
  ASSERT_EQ(::symlink("missing", (d + "/dangling").c_str()), 0);
  ASSERT_EQ(::symlink("sub", (d + "/link-sub").c_str()), 0);
  ASSERT_EQ(::symlink("d", tmp.file("ld").c_str()), 0);
  ASSERT_EQ(::symlink("loop-b", tmp.file("loop-a").c_str()), 0);
  ASSERT_EQ(::symlink("loop-a", tmp.file("loop-b").c_str()), 0);

  std::vector<std::string> paths;
  for (const std::string& base : {d, tmp.file("ld"), d + "/../d", d + "/./sub/..", d + "//"}) {
    for (const char* name :
         {"/f", "/link-f", "/dangling", "/missing", "/sub", "/sub/", "/sub/g", "/link-sub/g",
          "/link-sub/../f", "/f/x", "/dangling/x", "/.", "/..", "//f", ""}) {
      paths.push_back(base + name);
    }
  }
  for (const char* other : {"/", "//", "", "relative/f", "/nonexistent/cmdgate/a",
                            "/nonexistent/cmdgate/b", "/usr/bin", "/proc/self/exe"}) {
    paths.emplace_back(other);
  }
  paths.push_back(tmp.file("loop-a"));
  paths.push_back(tmp.file("loop-a") + "/x");
  paths.push_back(d + "/f");  // a directory already resolved, again

  SystemFileResolver r;
  const std::vector<ResolvedPath> many = r.resolve(paths);
  ASSERT_EQ(many.size(), paths.size());
  size_t found = 0;
  for (size_t i = 0; i < paths.size(); ++i) {
    EXPECT_EQ(many[i].text, paths[i]);
    EXPECT_EQ(many[i].canonical(), r.canonical(paths[i])) << paths[i];
    EXPECT_EQ(many[i].id, r.identity(paths[i])) << paths[i];
    found += many[i].id.has_value();
  }
  EXPECT_GT(found, 20u);  // the detours reach real files, not only errors
}

}  // namespace
}  // namespace cmdgate::rules
