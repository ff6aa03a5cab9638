// `cmdgate check` reports every error and the rules a rule above shadows in one run;
// `cmdgate explain --expect` fails when the rules give a command another action.

#include <gtest/gtest.h>

#include <fstream>
#include <nlohmann/json.hpp>
#include <string>

#include "processes.h"

namespace cmdgate {
namespace {

std::string rules_file(const std::string& rules) {
  // A directory per process, a file per test: several processes of this binary run at once.
  static const test::TempDir dir;
  const std::string path = dir.file(
      std::string(testing::UnitTest::GetInstance()->current_test_info()->name()) + ".toml");
  std::ofstream(path) << rules;
  return path;
}

test::CommandOutput cmdgate(const std::string& args) {
  return test::run_shell(std::string(CMDGATE_CLI_PATH) + " " + args + " 2>&1");
}

constexpr const char* kFaulty = R"([[rule]]
id = "rm-anywhere"
action = "deny"
path = ["/usr/bin/rm", "/bin/rm"]

[[rule]]
id = "rm-as-root"
action = "deny"
path = "/usr/bin/rm"
user = "root"

[[rule]]
id = "bad-action"
action = "forbid"
path = "/usr/bin/ls"

[[rule]]
id = "bad-regex"
action = "deny"
args = '(unclosed'
)";

TEST(Check, TwoErrorsAndAShadowedRuleInOneRun) {
  const std::string path = rules_file(kFaulty);
  const test::CommandOutput r = cmdgate("check " + path);
  EXPECT_EQ(r.status, 1) << r.out;
  EXPECT_NE(r.out.find(path + ":14:10: rule 'bad-action': key 'action': expected one of"),
            std::string::npos)
      << r.out;
  EXPECT_NE(r.out.find(path + ":20:8: rule 'bad-regex': key 'args': invalid regular expression"),
            std::string::npos)
      << r.out;
  EXPECT_NE(r.out.find("warning: " + path +
                       ":6:1: rule 'rm-as-root' can never decide: rule "
                       "'rm-anywhere' (" +
                       path + ":1:1) comes before it"),
            std::string::npos)
      << r.out;
  EXPECT_NE(r.out.find("2 error(s)\n"), std::string::npos) << r.out;
}

TEST(Check, JsonListsErrorsAndWarnings) {
  const auto j =
      nlohmann::json::parse(cmdgate("check --json " + rules_file(kFaulty)).out, nullptr, false);
  ASSERT_FALSE(j.is_discarded());
  EXPECT_EQ(j["ok"], false);
  EXPECT_EQ(j["errors"].size(), 2u);
  EXPECT_EQ(j["warnings"].size(), 1u);
}

TEST(Check, WarningsAloneStillPass) {
  const test::CommandOutput r = cmdgate("check " + rules_file(R"([[rule]]
id = "everything"
action = "audit"
[[rule]]
id = "rm"
action = "deny"
path = "/usr/bin/rm"
)"));
  EXPECT_EQ(r.status, 0) << r.out;
  EXPECT_NE(r.out.find("rule 'rm' can never decide: rule 'everything'"), std::string::npos)
      << r.out;
  EXPECT_NE(r.out.find("ok: 2 rules from 1 file(s), 1 warning(s)\n"), std::string::npos) << r.out;
}

constexpr const char* kPolicy = R"(
default_action = "allow"
[[rule]]
id = "no-rm"
action = "deny"
path = "/usr/bin/rm"
[[rule]]
id = "ask-chmod"
action = "ask"
path = "/usr/bin/chmod"
)";

TEST(ExplainExpect, ZeroWhenTheActionIsTheExpectedOne) {
  const std::string path = rules_file(kPolicy);
  EXPECT_EQ(cmdgate("explain --rules " + path + " --expect deny -- /usr/bin/rm -rf /x").status, 0);
  EXPECT_EQ(cmdgate("explain --rules " + path + " --expect ask -- /usr/bin/chmod +x f").status, 0);
  EXPECT_EQ(cmdgate("explain --rules " + path + " --expect allow -- /usr/bin/true").status, 0);
}

TEST(ExplainExpect, FiveWhenItDiffers) {
  const std::string path = rules_file(kPolicy);
  const test::CommandOutput r =
      cmdgate("explain --rules " + path + " --expect allow -- /usr/bin/rm -rf /x");
  EXPECT_EQ(r.status, 5) << r.out;
  EXPECT_NE(r.out.find("cmdgate explain: expected allow, got deny (rule 'no-rm')"),
            std::string::npos)
      << r.out;
  const test::CommandOutput j =
      cmdgate("explain --rules " + path + " --json --expect ask -- /usr/bin/true");
  EXPECT_EQ(j.status, 5) << j.out;
  EXPECT_NE(j.out.find("\"as_expected\":false"), std::string::npos) << j.out;
}

TEST(ExplainExpect, AnUnknownOutcomeIsNeverTheExpectedOne) {
  // The line's second program is named by a variable only set when it runs.
  const test::CommandOutput r =
      cmdgate("explain --rules " + rules_file(kPolicy) +
              " --expect allow -- /bin/sh -c '\"$(cat /etc/hostname)\" x'");
  EXPECT_EQ(r.status, 5) << r.out;
  EXPECT_NE(r.out.find("got an unknown outcome"), std::string::npos) << r.out;
}

TEST(ExplainExpect, AWordThatIsNoActionIsAUsageError) {
  const test::CommandOutput r =
      cmdgate("explain --rules " + rules_file(kPolicy) + " --expect block -- /bin/true");
  EXPECT_EQ(r.status, 2) << r.out;
  EXPECT_NE(r.out.find("expected one of \"allow\", \"audit\", \"deny\", \"ask\""),
            std::string::npos)
      << r.out;
}

}  // namespace
}  // namespace cmdgate
