// Safe boot with BPF: a daemon started with rule files that do not compile enforces the
// last-known-good copy saved by the run before, so the program that copy denies is still killed
// before its first instruction (tests/fleet/safe_boot_test.cpp covers the rest without root).

#include <signal.h>

#include "harness.h"

namespace cmdgate::test {
namespace {

using nlohmann::json;

using SafeBoot = MarkerTargetTest;

TEST_F(SafeBoot, ABootWithABrokenRuleFileStillDeniesByTheLastKnownGoodCopy) {
  CMDGATE_REQUIRE_ROOT_BPF();
  const std::string copy = work_->file("local-rules.json");
  const std::vector<std::string> args = {"--last-known-good", copy};
  {
    auto first = Agent::start(Agent::Options(deny_path_rules(target_), args));
    ASSERT_TRUE(first);
    ASSERT_EQ(first->stop(), 0);
  }
  ASSERT_TRUE(exists(copy));

  auto agent = Agent::start(
      Agent::Options("[[rule]]\nid = \"x\"\naction = \"deny\"\nargs = \"(\"\n", args));
  ASSERT_TRUE(agent) << "no start with a broken rules file";
  EXPECT_NE(agent->log_text().find("enforcing their last-known-good copy " + copy),
            std::string::npos)
      << agent->log_text();
  const RunResult r = run({target_, marker("denied")});
  EXPECT_FALSE(r.exited);
  EXPECT_EQ(r.signal, SIGKILL);
  EXPECT_FALSE(exists(marker("denied")));
  auto d = agent->wait_decision([&](const json& j) { return j["exe"] == target_; });
  ASSERT_TRUE(d) << agent->log_text();
  EXPECT_EQ((*d)["rule"], "deny-target");
  EXPECT_EQ((*d)["outcome"], "killed");
}

}  // namespace
}  // namespace cmdgate::test
