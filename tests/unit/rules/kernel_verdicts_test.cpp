// The kernel may decide an exec alone only when the full evaluation would agree: every exact
// verdict derived for the BPF maps is checked against the evaluator on random policies and execs.

#include "rules/kernel_model.h"
#include "rules/kernel_verdicts.h"

#include <gtest/gtest.h>

#include "policy_test_util.h"
#include "rules/held_tools.h"
#include "random_world.h"
#include "rules/parser.h"

namespace cmdgate::rules {
namespace {

using testing::OwnedContext;
using testing::Random;
using testing::World;

// An exact kernel verdict is sound when it names the class of what the evaluator decides.
bool sound(KernelVerdict kernel, const Decision& d) {
  const KernelVerdict full = kernel_class(d);
  switch (kernel) {
    case KernelVerdict::kAllow:
      return full == KernelVerdict::kAllow;
    case KernelVerdict::kAudit:
      return full == KernelVerdict::kAllow || full == KernelVerdict::kAudit;
    case KernelVerdict::kDeny:
      return full == KernelVerdict::kDeny;
    case KernelVerdict::kEvaluate:
      return true;
    case KernelVerdict::kNone:
      return false;
  }
  return false;
}

// "/b/y" (identity {1, 2}) starts with #!; the other rule targets are binaries.
bool test_shebang(const std::string& canonical) { return canonical == "/b/y"; }

std::string describe_rule(const Rule& r) {
  std::string out = "rule " + r.id + ":";
  for (const auto& x : r.match.paths) out += " path=" + x;
  for (const auto& x : r.match.path_globs) out += " glob=" + x;
  if (!r.match.sha256.empty()) out += " sha256";
  if (r.match.file_kinds) out += " kinds=" + std::to_string(r.match.file_kinds);
  if (r.match.has_context_predicate()) out += " +context";
  return out;
}

TEST(KernelVerdictsProperty, EveryExactVerdictAgreesWithTheEvaluator) {
  const uint64_t seed = testing::test_seed();
  SCOPED_TRACE("CMDGATE_SEED=" + std::to_string(seed));
  Random rnd(seed);
  World world(rnd);
  size_t cases = 0;
  size_t exact = 0;
  size_t learned_exact = 0;
  size_t labelled_cases = 0;
  size_t unlabelled_exact = 0;
  for (int set = 0; set < testing::property_sets(400); ++set) {
    auto policy = Policy::compile(world.rule_set(), world.resolver());
    ASSERT_TRUE(policy.ok()) << policy.error().message;
    const Policy& p = **policy;
    KernelVerdicts verdicts(p, test_shebang);
    const KernelPolicy kp = verdicts.policy();
    for (int i = 0; i < 30; ++i) {
      OwnedContext c = world.context();
      if (c.file_kinds == (kFileMemfd | kFileDeleted)) {
        c.file_kinds = kFileMemfd;  // the kernel flags a memfd as memfd only
      }
      if (c.file_kinds & kFileMemfd) {
        c.file = FileId{2, 9};  // a memfd is no file a rule's path resolved to (none is a memfd)
      }
      const bool script = rnd.chance(0.2);
      if (rnd.chance(0.2)) {
        c.unknown |= kUnknownAgent;  // CG_EXEC_AGENT_UNKNOWN
      }
      KernelFacts facts{c.file, c.path, c.file_kinds, script, std::nullopt};
      facts.labelled = c.agents != 0 || (c.unknown & kUnknownAgent) != 0;
      labelled_cases += facts.labelled;
      Decision d = p.evaluate(c.view());
      std::string what = "exec";
      if (script) {
        // The script: a file that starts with #! (or one no rule names), any path.
        OwnedContext s = c;
        s.file = rnd.chance(0.5) ? FileId{1, 2} : FileId{2, 9};
        s.path = rnd.chance(0.5) ? "/b/y" : "/a/x";
        s.file_kinds = 0;
        d = combine_script(p.evaluate(s.view()), p.evaluate(c.view()));
        what = "script exec";
      }
      const KernelVerdict k = simulate_kernel(kp, facts);
      ++cases;
      exact += k != KernelVerdict::kEvaluate;
      unlabelled_exact += !facts.labelled && k != KernelVerdict::kEvaluate;
      ASSERT_TRUE(sound(k, d)) << what << ": kernel says " << to_string(k) << ", the rules say "
                               << to_string(d.action) << " (" << to_string(d.mode) << ") by "
                               << (d.rule ? d.rule->id : "default") << "\n"
                               << "set #" << set << " path " << c.path << " file "
                               << c.file.dev << ":" << c.file.ino << " kinds "
                               << int(c.file_kinds) << "\n"
                               << (d.rule ? describe_rule(*d.rule) : "");

      // A learned verdict for this file and content holds for every other exec of it.
      if (c.file_kinds != 0) {
        continue;
      }
      const InodeVerdict lv = verdicts.learned(c.file, c.sha256 ? &*c.sha256 : nullptr, c.trust);
      if (lv.verdict == KernelVerdict::kEvaluate &&
          lv.agent_verdict == KernelVerdict::kEvaluate) {
        continue;
      }
      for (int j = 0; j < 5; ++j) {
        OwnedContext other = world.context();
        other.file = c.file;
        other.sha256 = c.sha256;
        other.trust = c.trust;
        other.file_kinds = 0;
        KernelFacts of{other.file, other.path, 0, false, lv};
        of.labelled = other.agents != 0;
        const KernelVerdict lk = simulate_kernel(kp, of);
        learned_exact += lk != KernelVerdict::kEvaluate;
        const Decision od = p.evaluate(other.view());
        ASSERT_TRUE(sound(lk, od)) << "learned " << to_string(lv.verdict)
                                   << (lv.check_path ? " (check path)" : "") << " gave "
                                   << to_string(lk) << ", the rules say " << to_string(od.action)
                                   << " by " << (od.rule ? od.rule->id : "default");
      }
    }
  }
  RecordProperty("cases", std::to_string(cases));
  RecordProperty("decided_in_kernel", std::to_string(exact));
  if (testing::property_divisor() > 1) {
    return;  // too few sets to judge the kernel's share: the full run does
  }
  // Soundness alone is easy (evaluate everything); the kernel must also decide a real share.
  EXPECT_GT(exact * 6, cases) << exact << " of " << cases << " decided in the kernel";
  EXPECT_GT(learned_exact, 0u);
  EXPECT_GT(labelled_cases * 3, cases) << "too few labelled execs to judge the agent verdicts";
  EXPECT_GT(unlabelled_exact, 0u);
}

class NoNames final : public NameResolver {
 public:
  std::optional<uint32_t> uid(const std::string&) const override { return std::nullopt; }
  std::optional<uint32_t> gid(const std::string&) const override { return std::nullopt; }
};

KernelPolicy kernel_policy_of(const std::string& toml, const FileResolver& files) {
  auto set = parse_rules(toml, "t.toml", NoNames());
  EXPECT_TRUE(set.ok()) << set.error().message;
  auto policy = Policy::compile(std::move(*set), files);
  EXPECT_TRUE(policy.ok());
  KernelVerdicts v(**policy, [](const std::string&) { return false; });
  return v.policy();
}

TEST(KernelVerdicts, ShippedBaselineIsDecidedInTheKernel) {
  testing::FakeResolver files;
  const KernelPolicy kp = kernel_policy_of(R"(
default_action = "audit"
[[rule]]
id = "no-fileless-exec"
action = "deny"
file = ["memfd"]
[[rule]]
id = "no-deleted-exec"
action = "deny"
file = ["deleted"]
)",
                                           files);
  EXPECT_EQ(kp.default_verdict, KernelVerdict::kAudit);
  EXPECT_EQ(kp.memfd_verdict, KernelVerdict::kDeny);
  EXPECT_EQ(kp.deleted_verdict, KernelVerdict::kDeny);
  EXPECT_EQ(kp.script_verdict, KernelVerdict::kAudit);
  EXPECT_TRUE(kp.inodes.empty());
  EXPECT_TRUE(kp.paths.empty());
}

// Issue 14: a process that carries no agent label cannot match an `agent` rule, so the rules
// an agents' pack adds must cost it nothing: its execs of git, rm or bash stay in the kernel.
TEST(KernelVerdicts, AgentRulesEvaluateOnlyForLabelledProcesses) {
  testing::FakeResolver files;
  files.add("/usr/bin/git", FileId{1, 10});
  files.add("/usr/bin/rm", FileId{1, 11});
  files.add("/opt/claude/bin/claude", FileId{1, 12});
  const KernelPolicy kp = kernel_policy_of(R"(
[[agent]]
name = "claude"
path = "/opt/claude/bin/claude"
comm = ["claude", "claude-*"]
[[agent]]
name = "codex"
unit = "codex-agent*"
[[rule]]
id = "force-push"
action = "ask"
agent = "*"
path = "/usr/bin/git"
args = "^--force$"
[[rule]]
id = "rm"
action = "ask"
agent = "claude"
path = ["/usr/bin/rm", "/home/*/.local/bin/*"]
[[rule]]
id = "fileless"
action = "deny"
agent = "codex"
file = "memfd"
)",
                                           files);
  EXPECT_EQ(kp.default_verdict, KernelVerdict::kAllow);
  // A file the kernel knows nothing of may be a copy of git or rm (held_tools.h): an agent's
  // first exec of it goes to the daemon, which compares its content and then lets the kernel
  // learn it (HeldTools.* below).
  EXPECT_EQ(kp.agent_default_verdict, KernelVerdict::kEvaluate);
  EXPECT_EQ(kp.memfd_verdict, KernelVerdict::kAllow);
  EXPECT_EQ(kp.agent_memfd_verdict, KernelVerdict::kEvaluate);
  ASSERT_EQ(kp.inodes.size(), 2u);
  for (const InodeEntry& e : kp.inodes) {
    SCOPED_TRACE(e.file.ino);
    EXPECT_EQ(e.verdict.verdict, KernelVerdict::kAllow);
    EXPECT_EQ(e.verdict.agent_verdict, KernelVerdict::kEvaluate);
  }
  ASSERT_EQ(kp.paths.size(), 1u);
  EXPECT_EQ(kp.paths[0].prefix, "/home/");
  EXPECT_EQ(kp.paths[0].verdict, KernelVerdict::kAllow);
  EXPECT_EQ(kp.paths[0].agent_verdict, KernelVerdict::kEvaluate);

  KernelFacts git{FileId{1, 10}, "/usr/bin/git", 0, false, std::nullopt};
  EXPECT_EQ(simulate_kernel(kp, git), KernelVerdict::kAllow);
  git.labelled = true;
  EXPECT_EQ(simulate_kernel(kp, git), KernelVerdict::kEvaluate);

  EXPECT_TRUE(kp.has_agents);
  ASSERT_EQ(kp.agent_files.size(), 1u);
  EXPECT_EQ(kp.agent_files[0].file, (FileId{1, 12}));
  EXPECT_EQ(kp.agent_files[0].bits, 1u);
  ASSERT_EQ(kp.agent_names.size(), 3u);
  EXPECT_EQ(kp.agent_names[0].name, "claude");
  EXPECT_FALSE(kp.agent_names[0].prefix);
  EXPECT_EQ(kp.agent_names[1].name, "claude-");
  EXPECT_TRUE(kp.agent_names[1].prefix);
  EXPECT_EQ(kp.agent_names[2].kind, AgentNameKind::kUnit);
  EXPECT_EQ(kp.agent_names[2].name, "codex-agent");
  EXPECT_EQ(kp.agent_names[2].bits, 2u);
}

TEST(KernelVerdicts, WithoutAgentsNothingIsLabelled) {
  testing::FakeResolver files;
  const KernelPolicy kp = kernel_policy_of("default_action = \"audit\"\n", files);
  EXPECT_FALSE(kp.has_agents);
  EXPECT_EQ(kp.agent_default_verdict, KernelVerdict::kAudit);
}

TEST(KernelVerdicts, ContextPredicatesMakeOnlyTheirFilesEvaluate) {
  testing::FakeResolver files;
  files.add("/usr/bin/git", FileId{1, 10});
  files.add("/usr/bin/nc", FileId{1, 11});
  const KernelPolicy kp = kernel_policy_of(R"(
[[rule]]
id = "no-force-push"
action = "ask"
path = "/usr/bin/git"
args = "^--force$"
[[rule]]
id = "no-nc"
action = "deny"
path = "/usr/bin/nc"
[[rule]]
id = "tmp-monitor"
action = "deny"
mode = "monitor"
path = "/tmp/**"
)",
                                           files);
  EXPECT_EQ(kp.default_verdict, KernelVerdict::kAllow);
  // A script could be under /tmp, where the monitor-mode rule only audits.
  EXPECT_EQ(kp.script_verdict, KernelVerdict::kAudit);
  ASSERT_EQ(kp.inodes.size(), 2u);
  for (const InodeEntry& e : kp.inodes) {
    if (e.file == FileId{1, 10}) {
      EXPECT_EQ(e.verdict.verdict, KernelVerdict::kEvaluate);
    } else {
      EXPECT_EQ(e.verdict.verdict, KernelVerdict::kDeny);
      EXPECT_FALSE(e.verdict.check_path);  // the deny comes before any path-based rule
    }
  }
  ASSERT_EQ(kp.paths.size(), 1u);
  EXPECT_EQ(kp.paths[0].prefix, "/tmp/");
  EXPECT_EQ(kp.paths[0].verdict, KernelVerdict::kAudit);  // monitor: would deny, audited
}

// Held tools: inside an agent's tree, a file of unknown content may be a copy of a file an agent
// rule names by exact path, so the kernel cannot let an agent's process run it unseen; once the
// daemon has compared it, the learned verdict is exact. Outside every agent's tree nothing
// changes, and agent rules without an exact path hold no tool.
TEST(HeldTools, AnAgentsFirstExecOfAFileOfUnknownContentIsTheDaemons) {
  testing::FakeResolver files;
  files.add("/usr/bin/git", FileId{1, 10});
  files.add("/usr/bin/ls", FileId{1, 20});
  const char* rules = R"(
[[agent]]
name = "claude"
comm = ["claude"]
[[rule]]
id = "force-push"
action = "ask"
agent = "*"
path = "/usr/bin/git"
args = "^--force$"
)";
  auto policy = Policy::compile(parse_rules(rules, "t.toml", NoNames()).value(), files).value();
  const KernelVerdicts verdicts(*policy, [](const std::string&) { return false; });
  const KernelPolicy kp = verdicts.policy();
  EXPECT_EQ(kp.default_verdict, KernelVerdict::kAllow);
  EXPECT_EQ(kp.agent_default_verdict, KernelVerdict::kEvaluate);
  ASSERT_EQ(held_tools(*policy).size(), 1u);
  EXPECT_EQ(held_tools(*policy)[0].path, "/usr/bin/git");

  KernelFacts copy{FileId{1, 30}, "/home/u/g", 0, false, std::nullopt};
  EXPECT_EQ(simulate_kernel(kp, copy), KernelVerdict::kAllow);
  copy.labelled = true;
  EXPECT_EQ(simulate_kernel(kp, copy), KernelVerdict::kEvaluate);

  // Compared and no copy: learned, exact for both.
  KernelFacts ls{FileId{1, 20}, "/usr/bin/ls", 0, false, verdicts.learned(FileId{1, 20}, nullptr),
                 false, true};
  EXPECT_EQ(simulate_kernel(kp, ls), KernelVerdict::kAllow);

  auto globs_only = Policy::compile(parse_rules(R"(
[[agent]]
name = "claude"
comm = ["claude"]
[[rule]]
id = "home-tools"
action = "ask"
agent = "*"
path = "/home/*/bin/*"
)", "t.toml", NoNames()).value(), files).value();
  EXPECT_TRUE(held_tools(*globs_only).empty());
  const KernelVerdicts gv(*globs_only, [](const std::string&) { return false; });
  EXPECT_EQ(gv.policy().agent_default_verdict, KernelVerdict::kAllow);
}
}  // namespace
}  // namespace cmdgate::rules
