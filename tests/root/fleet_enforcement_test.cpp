// Fleet push with the real daemon and BPF: a deny rule that arrives in a signed bundle over a
// real mosquitto kills the program, and keeps killing it after a restart while the broker is
// down (the last-known-good bundle). The many-agent cases run without BPF in tests/fleet/.

#include <signal.h>

#include "fleet_kit.h"
#include "harness.h"

namespace cmdgate::test {
namespace {

using namespace std::chrono_literals;

TEST(FleetEnforcement, PushedDenyRuleKillsTheProgramAndSurvivesARestartWithoutBroker) {
  CMDGATE_REQUIRE_ROOT_BPF();
  CMDGATE_REQUIRE_MOSQUITTO();
  TempDir work;
  const std::string target = work.file("target");
  copy_file(marker_path(), target);
  auto broker = Broker::start();
  ASSERT_TRUE(broker);
  Signer signer;

  FleetHost::Options o;
  o.host = "bpf-host";
  o.local_rules = "default_action = \"allow\"\n";
  o.trusted = {signer.public_key()};
  o.evaluation_only = false;
  FleetHost host(*broker, o);
  ASSERT_TRUE(host.start());
  Agent* agent = host.agent();

  const RunResult before = run({target, work.file("before.marker"), "hi", "4"});
  EXPECT_TRUE(before.exited);
  EXPECT_EQ(before.code, 4);
  EXPECT_TRUE(exists(work.file("before.marker")));

  const std::string bundle = signer.sign("web", 1,
                                         fmt::format(R"(
default_action = "allow"
[[rule]]
id = "fleet-deny-target"
action = "deny"
path = "{}"
)",
                                                     target));
  ASSERT_EQ(push(*broker, "web", bundle).code, 0);
  ASSERT_TRUE(agent->wait_notify("READY=1", 10s)) << host.log_text();
  ASSERT_TRUE(host.wait_log("fleet: group web: applied web@1", 10s)) << host.log_text();

  const RunResult denied = run({target, work.file("denied.marker")});
  EXPECT_FALSE(denied.exited);
  EXPECT_EQ(denied.signal, SIGKILL);
  EXPECT_FALSE(exists(work.file("denied.marker")));
  auto d = agent->wait_decision([&](const nlohmann::json& j) { return j["exe"] == target; });
  ASSERT_TRUE(d) << host.log_text();
  EXPECT_EQ((*d)["rule"], "fleet-deny-target");
  EXPECT_EQ((*d)["outcome"], "killed");

  // Restarted while the broker is down: the saved bundle is enforced before any connection.
  host.stop();
  broker->stop(SIGKILL);
  ASSERT_TRUE(host.start());
  const RunResult after = run({target, work.file("after.marker")});
  EXPECT_EQ(after.signal, SIGKILL);
  EXPECT_FALSE(exists(work.file("after.marker")));
  EXPECT_NE(host.log_text().find("last-known-good bundle web@1"), std::string::npos)
      << host.log_text();
}

}  // namespace
}  // namespace cmdgate::test
