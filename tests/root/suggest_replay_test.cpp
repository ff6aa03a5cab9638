// `cmdgate suggest` and `cmdgate replay` on the decision log of the real daemon in monitor mode:
// what it logged as would_deny and would_ask, suggested as allow rules, replays as allowed.

#include <fstream>

#include "harness.h"

namespace cmdgate::test {
namespace {

using namespace std::chrono_literals;

bool contains(const std::string& text, const std::string& what) {
  return text.find(what) != std::string::npos;
}

class SuggestReplay : public MarkerTargetTest {};

TEST_F(SuggestReplay, TheDaemonsMonitorLogBecomesRulesThatLetItRun) {
  const std::string rules = fmt::format(R"(
mode = "monitor"
default_action = "allow"
[[rule]]
id = "deny-target"
action = "deny"
path = "{0}"
args = "deny-me$"
[[rule]]
id = "ask-target"
action = "ask"
path = "{0}"
args = "ask-me$"
)",
                                        target_);
  auto agent = Agent::start({rules});
  ASSERT_TRUE(agent);
  for (const char* name : {"deny-me", "ask-me", "fine"}) {
    const RunResult r = run({target_, work_->file(name)});
    EXPECT_TRUE(r.exited && r.code == 0) << name;  // monitor mode: everything runs
    EXPECT_TRUE(exists(work_->file(name))) << name;
  }
  for (const char* outcome : {"would_deny", "would_ask"}) {
    EXPECT_TRUE(agent->wait_decision([&](const nlohmann::json& d) {
      return d.value("exe", "") == target_ && d.value("outcome", "") == outcome;
    })) << outcome;
  }
  ASSERT_TRUE(agent->wait_decision([&](const nlohmann::json& d) {
    return d.value("exe", "") == target_ && d.value("outcome", "") == "allowed";
  }));
  const std::string log = agent->dir().file("decisions.jsonl");

  const RunResult suggested = run({cli_path(), "suggest", "--from", log, "--rules",
                                   agent->rules_path()});
  ASSERT_TRUE(suggested.exited && suggested.code == 0) << suggested.out;
  const std::string id = "suggested-allow-target-uid0";
  EXPECT_TRUE(contains(suggested.out, "# Covers 2 execs: would_ask by rule ask-target (1), "
                                      "would_deny by rule deny-target (1).\n"))
      << suggested.out;
  EXPECT_TRUE(contains(suggested.out, "id = '" + id + "'") ||
              contains(suggested.out, "id = \"" + id + "\""))
      << suggested.out;
  const std::string suggestion = work_->file("suggested.toml");
  std::ofstream(suggestion) << suggested.out;

  const RunResult check = run({cli_path(), "check", agent->rules_path(), suggestion});
  EXPECT_TRUE(check.exited && check.code == 0) << check.out;

  // Under the rules that wrote it, nothing changes (other programs of this busy host may not
  // be judgeable any more: their files are gone).
  const RunResult same = run({cli_path(), "replay", "--rules", agent->rules_path(), "--from", log});
  EXPECT_TRUE(contains(same.out, " 0 change,")) << same.out;

  const RunResult replayed = run({cli_path(), "replay", "--rules", agent->rules_path(), "--rules",
                                  suggestion, "--from", log});
  EXPECT_TRUE(replayed.exited && replayed.code == 1) << replayed.out;
  EXPECT_TRUE(contains(replayed.out, "would_deny (rule deny-target) -> allow (rule " + id + "): " +
                                         target_ + " " + work_->file("deny-me") + "\n"))
      << replayed.out;
  EXPECT_TRUE(contains(replayed.out, "would_ask (rule ask-target) -> allow (rule " + id + "): " +
                                         target_ + " " + work_->file("ask-me") + "\n"))
      << replayed.out;
  EXPECT_TRUE(contains(replayed.out, " 2 change,")) << replayed.out;
  agent->stop();
}

}  // namespace
}  // namespace cmdgate::test
