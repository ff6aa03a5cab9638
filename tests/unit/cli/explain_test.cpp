// `cmdgate explain` shows what a blocked caller would be told: the rule's message and url.

#include <gtest/gtest.h>

#include <fstream>
#include <nlohmann/json.hpp>
#include <string>

#include "processes.h"

namespace cmdgate {
namespace {

std::string run_explain(const std::string& rules, const std::string& args) {
  // A directory per process, a file per test: several processes of this binary run at once.
  static const test::TempDir dir;
  const std::string path = dir.file(
      std::string(testing::UnitTest::GetInstance()->current_test_info()->name()) + ".toml");
  std::ofstream(path) << rules;
  const std::string command =
      std::string(CMDGATE_CLI_PATH) + " explain --rules " + path + " " + args;
  return test::run_shell(command).out;
}

constexpr const char* kRules = R"(
default_action = "allow"
[[rule]]
id = "no-rm"
action = "deny"
path = "/usr/bin/rm"
description = "removing is not allowed here"
message = "use trash-put instead"
url = "https://wiki.example/rm"
[[rule]]
id = "quiet-true"
action = "deny"
path = "/usr/bin/true"
description = "said only in the rule file"
message = ""
)";

TEST(Explain, ShowsTheMessageAndUrlADeniedCallerIsTold) {
  const std::string out = run_explain(kRules, "-- /usr/bin/rm -rf /x");
  EXPECT_NE(out.find("message:  use trash-put instead\n"), std::string::npos) << out;
  EXPECT_NE(out.find("url:      https://wiki.example/rm\n"), std::string::npos) << out;
}

TEST(Explain, AnEmptyMessageSaysNothingEvenWithADescription) {
  const std::string out = run_explain(kRules, "-- /usr/bin/true");
  EXPECT_NE(out.find("rule:     quiet-true"), std::string::npos) << out;
  EXPECT_EQ(out.find("message:"), std::string::npos) << out;
}

TEST(Explain, JsonCarriesMessageAndUrl) {
  const auto j =
      nlohmann::json::parse(run_explain(kRules, "--json -- /usr/bin/rm -rf /x"), nullptr, false);
  ASSERT_FALSE(j.is_discarded());
  EXPECT_EQ(j["rule"]["message"], "use trash-put instead");
  EXPECT_EQ(j["rule"]["url"], "https://wiki.example/rm");
}

// The label the kernel would give: an agent named on the command line, or found among the
// ancestors by the name it is declared with (a name no process on a test host has).
constexpr const char* kAgentRules = R"(
default_action = "allow"
[[agent]]
name = "tester"
comm = "cg-test-agent"
[[rule]]
id = "held-true"
action = "ask"
agent = "*"
path = "/usr/bin/true"
)";

TEST(Explain, EvaluatesAsAProcessOfTheNamedOrAncestralAgent) {
  EXPECT_NE(run_explain(kAgentRules, "--agent tester -- /usr/bin/true").find("rule:     held-true"),
            std::string::npos);
  EXPECT_NE(run_explain(kAgentRules, "--agent '*' -- /usr/bin/true").find("rule:     held-true"),
            std::string::npos);
  EXPECT_NE(run_explain(kAgentRules, "--ancestor cg-test-agent -- /usr/bin/true")
                .find("rule:     held-true"),
            std::string::npos);
  const std::string plain = run_explain(kAgentRules, "-- /usr/bin/true");
  EXPECT_NE(plain.find("rule:     none matched"), std::string::npos) << plain;
  EXPECT_EQ(run_explain(kAgentRules, "--agent nobody -- /usr/bin/true 2>/dev/null"), "");
}

}  // namespace
}  // namespace cmdgate
