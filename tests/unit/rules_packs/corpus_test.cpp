// The ai-agents pack against the corpus: every line is judged as `bash -c LINE` started from an
// agent's tree, with the library code behind `cmdgate explain` (rules/line_verdict.h), on the
// declared host of corpus/host.txt. Every dangerous line must be held (ask or deny), no everyday
// line may be; both counts are printed. An unreadable line counts as held (fail closed).

#include <gtest/gtest.h>

#include <fstream>

#include "declared_host.h"
#include "rules/line_verdict.h"
#include "rules/parser.h"

namespace cmdgate::rules {
namespace {

const std::string kDir = std::string(CMDGATE_SOURCE_DIR) + "/tests/unit/rules_packs/corpus/";
const std::string kRules = std::string(CMDGATE_SOURCE_DIR) + "/rules/";

std::vector<std::string> corpus(const std::string& name) {
  std::ifstream in(kDir + name);
  EXPECT_TRUE(in.good()) << kDir + name << ": cannot be read";
  std::vector<std::string> lines;
  for (std::string line; std::getline(in, line);) {
    if (!line.empty() && !line.starts_with('#')) {
      lines.push_back(line);
    }
  }
  return lines;
}

class Corpus : public ::testing::Test {
 protected:
  Corpus() : host_(kDir + "host.txt") {
    SystemNameResolver names;
    auto set = load_rules({kRules + "default.toml", kRules + "ai-agents.toml"}, names);
    EXPECT_TRUE(set.ok()) << set.error().message;
    agents_ = agent_mask(*set, {"claude"});
    auto compiled = Policy::compile(std::move(*set), host_);
    EXPECT_TRUE(compiled.ok()) << compiled.error().message;
    policy_ = *compiled;
    env_.cwd = "/home/agent/project";
    env_.vars = {{"HOME", "/home/agent"},
                 {"USER", "agent"},
                 {"PATH",
                  "/home/agent/.local/bin:/home/agent/.cargo/bin:/home/agent/.nix-profile/bin:"
                  "/home/agent/.npm-global/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:"
                  "/usr/bin:/sbin:/bin:/snap/bin"}};
  }

  LineVerdict judge(const std::string& line, uint64_t agents) const {
    CallerFacts caller;
    caller.uid = 1000;
    caller.gid = 1000;
    caller.agents = agents;
    caller.lineage = {{"claude", "/home/agent/.local/share/claude/versions/2.1.37"}};
    return judge_command(*policy_, host_, caller, {"bash", "-c", line}, env_);
  }

  static std::string why(const LineVerdict& v) {
    std::string out;
    for (size_t i = 0; i < v.judged.size(); ++i) {
      const Decision& d = v.judged[i].decision;
      out += fmt::format("\n    exec {} ({}): {} -> {}", fmt::join(v.trace.execs[i].argv, " "),
                         v.judged[i].file, d.rule ? d.rule->id : "(default)", to_string(d.action));
    }
    for (const auto& u : v.trace.unknowns) {
      out += "\n    unknown: " + u;
    }
    for (const auto& n : v.trace.notes) {
      out += "\n    note: " + n;
    }
    return out;
  }

  testing::DeclaredHost host_;
  std::shared_ptr<const Policy> policy_;
  uint64_t agents_ = 0;
  ShellEnv env_;
};

TEST_F(Corpus, EveryDangerousLineIsHeldUnderAnAgent) {
  const auto lines = corpus("dangerous.txt");
  ASSERT_GE(lines.size(), 150u);
  size_t held = 0, unknown = 0;
  for (const std::string& line : lines) {
    const LineVerdict v = judge(line, agents_);
    held += v.held() ? 1 : 0;
    unknown += v.unknown() ? 1 : 0;
    EXPECT_TRUE(v.held()) << "not held: " << line << why(v);
    EXPECT_GE(v.decision.effect(), Action::kAsk)
        << "held only because it could not be read: " << line << why(v);
  }
  std::printf("dangerous held %zu/%zu (unreadable, held fail-closed: %zu)\n", held, lines.size(),
              unknown);
}

TEST_F(Corpus, NoEverydayLineIsHeldUnderAnAgent) {
  const auto lines = corpus("everyday.txt");
  ASSERT_GE(lines.size(), 150u);
  size_t held = 0, unknown = 0;
  for (const std::string& line : lines) {
    const LineVerdict v = judge(line, agents_);
    held += v.held() ? 1 : 0;
    unknown += v.unknown() ? 1 : 0;
    EXPECT_FALSE(v.held()) << "held: " << line << why(v);
    EXPECT_FALSE(v.judged.empty()) << "runs nothing: " << line << why(v);
  }
  std::printf("everyday held %zu/%zu (unreadable, held fail-closed: %zu)\n", held, lines.size(),
              unknown);
}

// Every rule of the pack is for agents: the same dangerous lines from a person's shell run.
TEST_F(Corpus, DangerousLinesOfAPersonAreNotHeld) {
  for (const std::string& line : corpus("dangerous.txt")) {
    const LineVerdict v = judge(line, 0);
    EXPECT_FALSE(v.held() && !v.unknown()) << "held without an agent: " << line << why(v);
  }
}

}  // namespace
}  // namespace cmdgate::rules
