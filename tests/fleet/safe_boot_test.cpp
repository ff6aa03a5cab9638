// Safe boot: rule files that do not compile at start do not leave the host without a policy. The
// daemon (evaluation-only: every code path but BPF) enforces the last-known-good copy of the local
// rules saved by an earlier run, says so in its log, its readiness status and `cmdgate status`,
// and leaves the copy once a reload from the files works. tests/root/safe_boot_test.cpp shows the
// kernel denying by the copy.

#include <sys/stat.h>

#include "fleet_kit.h"

namespace cmdgate::test {
namespace {

using namespace std::chrono_literals;
using nlohmann::json;

const std::string kGood = R"(default_action = "allow"
[[rule]]
id = "no-nc"
action = "deny"
path = "/usr/bin/nc"
)";
// A regular expression that does not compile, at rules.toml:4:8.
const std::string kBroken = "[[rule]]\nid = \"x\"\naction = \"deny\"\nargs = \"(\"\n";

json daemon_status(const Agent& a) {
  const RunResult r = cli({"status", "--json", "--socket", a.socket_path()});
  return r.code == 0 ? json::parse(r.out, nullptr, false) : json();
}

TEST(SafeBoot, BrokenRuleFilesAtStartEnforceTheLastKnownGoodCopy) {
  const TempDir state;
  const std::string copy = state.file("lib/local-rules.json");
  const std::vector<std::string> args = {"--evaluation-only", "--last-known-good", copy};

  auto first = Agent::start(Agent::Options(kGood, args));
  ASSERT_TRUE(first);
  const std::string good_path = first->rules_path();
  ASSERT_EQ(first->stop(), 0);
  struct stat st {};
  ASSERT_EQ(::stat(copy.c_str(), &st), 0) << "no copy saved at " << copy;
  EXPECT_EQ(st.st_mode & 0777, 0600u);

  auto booted = Agent::start(Agent::Options(kBroken, args));
  ASSERT_TRUE(booted) << "the daemon did not become ready with broken rule files";
  const std::string log = booted->log_text();
  EXPECT_NE(log.find("critical"), std::string::npos) << log;
  EXPECT_NE(log.find("the policy does not build from the local rule files (" +
                     booted->rules_path() + ":4:8: rule 'x': key 'args': invalid regular "
                                            "expression"),
            std::string::npos)
      << log;
  EXPECT_NE(log.find("enforcing their last-known-good copy " + copy), std::string::npos) << log;
  EXPECT_NE(log.find("policy generation 1 in force: 1 rules from 1 file(s)"), std::string::npos)
      << log;
  const json s = daemon_status(*booted);
  ASSERT_TRUE(s.is_object()) << "cmdgate status failed";
  EXPECT_EQ(s["rules"], 1);
  EXPECT_EQ(s["rule_sources"], json::array({good_path}));  // where the copy was read from
  EXPECT_NE(s["local_rules_fallback"].get<std::string>().find("last-known-good copy"),
            std::string::npos)
      << s.dump();

  // Still broken: the reload fails and the copy stays in force.
  const std::string failed = booted->reload();
  EXPECT_NE(failed.find("reload failed"), std::string::npos) << failed;
  EXPECT_NE(failed.find("LAST-KNOWN-GOOD local rules"), std::string::npos) << failed;
  // Fixed: the files are in force again, and the fallback is over.
  booted->write_rules(kGood + "[[rule]]\nid = \"two\"\naction = \"deny\"\npath = \"/x\"\n");
  const std::string fixed = booted->reload();
  EXPECT_EQ(fixed.find("LAST-KNOWN-GOOD"), std::string::npos) << fixed;
  ASSERT_TRUE(wait_for([&] { return daemon_status(*booted)["rules"] == 2; }, 10s));
  EXPECT_EQ(daemon_status(*booted)["local_rules_fallback"], "");
  EXPECT_NE(booted->log_text().find("no longer in force"), std::string::npos);
}

TEST(SafeBoot, WithoutACopyBrokenRuleFilesStillStopTheStart) {
  const TempDir state;
  const std::vector<std::string> args = {"--evaluation-only", "--last-known-good",
                                         state.file("none.json")};
  auto a = Agent::start(Agent::Options(kBroken, args, false));
  ASSERT_TRUE(a);
  ASSERT_TRUE(wait_for([&] { return !a->alive(); }, 10s)) << a->log_text();
  EXPECT_NE(a->log_text().find("no last-known-good copy of the local rules to start from"),
            std::string::npos)
      << a->log_text();
}

}  // namespace
}  // namespace cmdgate::test
