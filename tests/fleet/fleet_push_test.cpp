// Fleet rule push end to end: a real mosquitto on loopback, real signatures made by the cmdgate
// CLI, and cmdgated agents in evaluation-only mode (no BPF; every other code path is the real
// daemon's). tests/root/fleet_enforcement_test.cpp does the same with BPF enforcing.

#include <signal.h>

#include <algorithm>
#include <random>
#include <sstream>

#include "fleet_kit.h"

namespace cmdgate::test {
namespace {

using namespace std::chrono_literals;
using nlohmann::json;

std::string deny_rules(const std::string& id, const std::string& path) {
  return fmt::format(R"(
default_action = "allow"
[[rule]]
id = "{}"
action = "deny"
path = "{}"
)",
                     id, path);
}

// Some line of the log holds every one of the parts.
bool has_line(const std::string& log, const std::vector<std::string>& parts) {
  std::istringstream in(log);
  std::string line;
  while (std::getline(in, line)) {
    if (std::all_of(parts.begin(), parts.end(),
                    [&](const std::string& p) { return line.find(p) != std::string::npos; })) {
      return true;
    }
  }
  return false;
}

class FleetPush : public ::testing::Test {
 protected:
  void SetUp() override {
    CMDGATE_REQUIRE_MOSQUITTO();
    broker_ = Broker::start();
    ASSERT_TRUE(broker_);
    signer_ = std::make_unique<Signer>();
  }

  struct HostOptions {
    std::vector<std::string> groups = {"web"};
    std::string local_rules;
    std::string extra_fleet;
    bool wait_ready = true;
  };
  std::unique_ptr<FleetHost> host(const std::string& name, HostOptions o) {
    FleetHost::Options fo;
    fo.host = name;
    fo.groups = o.groups;
    fo.local_rules = o.local_rules;
    fo.trusted = {signer_->public_key()};
    fo.extra_fleet = o.extra_fleet;
    fo.wait_ready = o.wait_ready;
    auto h = std::make_unique<FleetHost>(*broker_, std::move(fo));
    EXPECT_TRUE(h->start()) << name;
    return h;
  }
  std::unique_ptr<FleetHost> host(const std::string& name) { return host(name, HostOptions()); }
  HostOptions groups(std::vector<std::string> g) {
    HostOptions o;
    o.groups = std::move(g);
    return o;
  }
  HostOptions local(std::string rules) {
    HostOptions o;
    o.local_rules = std::move(rules);
    return o;
  }
  HostOptions extra(std::string fleet) {
    HostOptions o;
    o.extra_fleet = std::move(fleet);
    return o;
  }

  // The host's status as `cmdgate fleet status --json` reports it.
  json row(const std::string& name, const std::string& group = "web") {
    const json j = fleet_status(*broker_, group);
    if (j.is_null()) {
      return nullptr;
    }
    for (const auto& r : j["hosts"]) {
      if (r["host"] == name) {
        return r;
      }
    }
    return nullptr;
  }

  std::unique_ptr<Broker> broker_;
  std::unique_ptr<Signer> signer_;
};

TEST_F(FleetPush, EveryAgentAppliesThePushedBundleAndStatusShowsThemCurrent) {
  constexpr size_t kAgents = 100;
  std::vector<std::unique_ptr<FleetHost>> hosts;
  for (size_t i = 0; i < kAgents; ++i) {
    HostOptions o;
    o.wait_ready = false;  // started together; readiness is checked through the broker
    hosts.push_back(host(fmt::format("agent-{:03}", i), o));
  }
  const std::string v1 = signer_->sign("web", 1, deny_rules("no-nc", "/usr/bin/nc"));
  const RunResult pushed = push(*broker_, "web", v1);
  ASSERT_EQ(pushed.code, 0) << pushed.out;
  ASSERT_TRUE(wait_fleet_on(*broker_, "web", kAgents, 1, 30s)) << fleet_status(*broker_).dump(1);

  // A second push moves everyone again; the status command says so with exit status 0.
  const std::string v2 = signer_->sign("web", 2, deny_rules("no-ncat", "/usr/bin/ncat"));
  ASSERT_EQ(push(*broker_, "web", v2).code, 0);
  ASSERT_TRUE(wait_fleet_on(*broker_, "web", kAgents, 2, 30s)) << fleet_status(*broker_).dump(1);
  const RunResult status = cli({"fleet", "status", "--broker", broker_->url()});
  EXPECT_EQ(status.code, 0) << status.out;
  EXPECT_NE(status.out.find("100 host(s): 100 current, 0 behind, 0 offline"), std::string::npos)
      << status.out;
  for (const auto& h : hosts) {
    EXPECT_EQ(h->count_log("fleet: group web: applied web@2"), 1u) << h->host();
  }
}

TEST_F(FleetPush, StatusListsStragglersAndOfflineHosts) {
  auto web1 = host("web-1");
  auto web2 = host("web-2", groups({"web", "canary"}));
  const std::string v1 = signer_->sign("web", 1, deny_rules("a", "/usr/bin/nc"));
  ASSERT_EQ(push(*broker_, "web", v1).code, 0);
  ASSERT_TRUE(wait_fleet_on(*broker_, "web", 2, 1, 10s));
  // web-1 leaves (its clean shutdown publishes it offline); web-2 moves on to version 2.
  web1->stop();
  const std::string v2 = signer_->sign("web", 2, deny_rules("b", "/usr/bin/nc"));
  ASSERT_EQ(push(*broker_, "web", v2).code, 0);
  ASSERT_TRUE(web2->wait_log("applied web@2", 10s));
  ASSERT_TRUE(wait_for([&] { return row("web-2")["version"] == 2; }, 10s));

  const RunResult text = cli({"fleet", "status", "--broker", broker_->url(), "--group", "web"});
  EXPECT_EQ(text.code, 4) << text.out;
  EXPECT_NE(text.out.find("2 host(s): 1 current, 1 behind, 1 offline"), std::string::npos)
      << text.out;
  const json j = fleet_status(*broker_, "web");
  ASSERT_FALSE(j.is_null());
  EXPECT_FALSE(j["all_current"]);
  EXPECT_EQ(j["groups"][0]["newest"], 2);
  const json r1 = row("web-1");
  EXPECT_EQ(r1["online"], false);
  EXPECT_EQ(r1["version"], 1);
  EXPECT_EQ(r1["behind"], true);
  // The other group of web-2 has no bundle yet: version 0, behind nothing pushed.
  EXPECT_EQ(row("web-2", "canary")["version"], 0);
}

TEST_F(FleetPush, AKilledAgentIsMarkedOfflineByItsLastWill) {
  auto a = host("victim");
  ASSERT_TRUE(wait_for([&] { return row("victim")["online"] == true; }, 10s));
  a->kill9();
  ASSERT_TRUE(wait_for([&] { return row("victim")["online"] == false; }, 10s));
}

// Every kind of bad bundle is refused with its reason in the log and in the status, and the
// policy in force (version, generation, rules) does not move; a good bundle afterwards still
// applies.
TEST_F(FleetPush, BadBundlesAreRefusedAndThePolicyInForceStays) {
  auto a = host("web-1");
  const std::string v2 = signer_->sign("web", 2, deny_rules("no-nc", "/usr/bin/nc"));
  ASSERT_EQ(push(*broker_, "web", v2).code, 0);
  ASSERT_TRUE(a->wait_log("fleet: group web: applied web@2", 10s)) << a->log_text();
  ASSERT_TRUE(wait_for([&] { return row("web-1")["version"] == 2; }, 10s));
  const std::string policy_line = "policy generation";
  const size_t policies_before = a->count_log(policy_line);
  const json before = row("web-1");
  const std::string status_before = fleet_status(*broker_, "web").dump();

  // Bundles that decode and push fine, refused by the agent.
  Signer stranger("stranger");
  std::string tampered = read_file(signer_->sign("web", 3, deny_rules("no-nc", "/usr/bin/nc")));
  const size_t at = tampered.find("/usr/bin/nc");
  ASSERT_NE(at, std::string::npos);
  tampered[at + 9] = 'N';  // one byte of the signed rules text
  const std::string tampered_path = signer_->dir().file("tampered.bundle");
  write_file(tampered_path, tampered);
  const std::string uncompilable = signer_->sign(
      "web", 4, "[[rule]]\nid = \"x\"\naction = \"deny\"\nargs = \"(\"\n", {"--no-check"});
  struct Case {
    std::string name;
    std::function<bool()> send;
    std::string reason;
  };
  const std::vector<Case> cases = {
      {"tampered", [&] { return push(*broker_, "web", tampered_path).code == 0; },
       "bad signature: the payload was not signed by key " + signer_->key_id()},
      {"unknown key",
       [&] {
         return push(*broker_, "web", stranger.sign("web", 5, deny_rules("x", "/x"))).code == 0;
       },
       "signed by unknown key " + stranger.key_id()},
      {"older version",
       [&] {
         return push(*broker_, "web", signer_->sign("web", 1, deny_rules("x", "/x"))).code == 0;
       },
       "version 1 is older than version 2 in force: rollback refused"},
      {"reused version",
       [&] {
         return push(*broker_, "web", signer_->sign("web", 2, deny_rules("y", "/y"))).code == 0;
       },
       "version 2 is already in force with different content"},
      {"garbage",
       [&] {
         std::mt19937 rng(7);
         std::string junk(4096, '\0');
         for (auto& c : junk) {
           c = static_cast<char>(rng());
         }
         return publish_raw(*broker_, "cmdgate/rules/web", junk);
       },
       "refused a message of 4096 bytes: not a signed cmdgate bundle"},
      {"10 MiB",
       [&] { return publish_raw(*broker_, "cmdgate/rules/web", std::string(10u << 20, 'x')); },
       "refused a message of 10485760 bytes: bundle is 10485760 bytes; at most 4194304 are "
       "accepted"},
      {"other group",
       [&] {
         return publish_raw(*broker_, "cmdgate/rules/web",
                            read_file(signer_->sign("db", 9, deny_rules("x", "/x"))));
       },
       "it is signed for group 'db' but arrived on cmdgate/rules/web"},
      {"rules that do not compile", [&] { return push(*broker_, "web", uncompilable).code == 0; },
       "fleet:web@4/10-fleet.toml:4:8: rule 'x': key 'args': invalid regular expression"},
  };
  uint64_t rejected = 0;
  for (const auto& c : cases) {
    SCOPED_TRACE(c.name);
    ASSERT_TRUE(c.send());
    ASSERT_TRUE(a->wait_log(c.reason, 10s)) << a->log_text();
    ++rejected;
    ASSERT_TRUE(wait_for([&] { return row("web-1")["rejected"] == rejected; }, 10s))
        << row("web-1").dump();
    const json now = row("web-1");
    EXPECT_EQ(now["version"], 2);
    EXPECT_EQ(now["rules"], before["rules"]);
    EXPECT_NE(now["last_error"].get<std::string>().find(c.reason), std::string::npos) << now.dump();
  }
  EXPECT_EQ(a->count_log(policy_line), policies_before) << a->log_text();
  EXPECT_EQ(a->count_log("fleet: group web: refused"), cases.size());

  // Still healthy: the next good bundle applies and clears the error.
  ASSERT_EQ(push(*broker_, "web", signer_->sign("web", 6, deny_rules("z", "/z"))).code, 0);
  ASSERT_TRUE(wait_for([&] { return row("web-1")["version"] == 6; }, 10s));
  EXPECT_EQ(row("web-1")["last_error"], "");
  (void)status_before;
}

TEST_F(FleetPush, SignedRollbackIsAppliedAndTheAbandonedVersionsStayRefused) {
  auto a = host("web-1");
  std::vector<std::string> bundles;
  for (uint64_t v = 1; v <= 3; ++v) {
    bundles.push_back(signer_->sign("web", v, deny_rules(fmt::format("r{}", v), "/usr/bin/nc")));
  }
  ASSERT_EQ(push(*broker_, "web", bundles[2]).code, 0);
  ASSERT_TRUE(a->wait_log("applied web@3", 10s));
  const std::string rollback = signer_->sign("web", 1, deny_rules("r1b", "/usr/bin/nc"),
                                             {"--rollback-from", "3", "--reason", "bad push"});
  ASSERT_EQ(push(*broker_, "web", rollback).code, 0);
  ASSERT_TRUE(a->wait_log(
      "applied web@1 (key " + signer_->key_id() + "), a rollback from version 3 (bad push)", 10s))
      << a->log_text();
  // The old version 2 is newer than 1 but was signed before the rollback: refused.
  ASSERT_EQ(push(*broker_, "web", bundles[1]).code, 0);
  ASSERT_TRUE(a->wait_log("it belongs to the sequence that rollback abandoned", 10s))
      << a->log_text();
  // ... and after a restart too: the rollback is remembered in the state directory.
  a->stop();
  ASSERT_TRUE(a->start());
  ASSERT_TRUE(a->wait_log("last-known-good bundle web@1", 10s)) << a->log_text();
  ASSERT_TRUE(wait_for([&] { return a->count_log("rollback abandoned") >= 2; }, 10s))
      << a->log_text();
  EXPECT_EQ(row("web-1")["version"], 1);
}

TEST_F(FleetPush, AgentsReconnectAfterABrokerCrashAndCatchUpOnTheRetainedBundle) {
  std::vector<std::unique_ptr<FleetHost>> hosts;
  for (int i = 0; i < 5; ++i) {
    // A slower first retry than the other tests: the new bundle is retained before they return.
    hosts.push_back(host(fmt::format("web-{}", i),
                         extra("reconnect_min = \"1500ms\"\nreconnect_max = \"3s\"\n")));
  }
  ASSERT_EQ(push(*broker_, "web", signer_->sign("web", 1, deny_rules("a", "/usr/bin/nc"))).code, 0);
  ASSERT_TRUE(wait_fleet_on(*broker_, "web", 5, 1, 10s));

  broker_->stop(SIGKILL);
  for (const auto& h : hosts) {
    ASSERT_TRUE(h->wait_log("connection to " + broker_->url() + " lost", 10s)) << h->log_text();
  }
  ASSERT_TRUE(broker_->restart());
  ASSERT_EQ(push(*broker_, "web", signer_->sign("web", 2, deny_rules("b", "/usr/bin/nc"))).code, 0);
  ASSERT_TRUE(wait_fleet_on(*broker_, "web", 5, 2, 20s)) << fleet_status(*broker_).dump(1);
  for (const auto& h : hosts) {
    EXPECT_NE(h->log_text().find("applied web@2 (key " + signer_->key_id() +
                                 "), 1 file(s), from the retained message"),
              std::string::npos)
        << h->log_text();
  }
}

TEST_F(FleetPush, AnAgentRestartedWhileTheBrokerIsDownEnforcesItsLastKnownGoodBundle) {
  auto a = host("web-1", local(deny_rules("local-only", "/usr/bin/local")));
  ASSERT_TRUE(a->wait_log("policy generation 1 in force: 1 rules from 1 file(s)", 10s));
  ASSERT_EQ(push(*broker_, "web",
                 signer_->sign("web", 7,
                               deny_rules("fleet-rule", "/usr/bin/nc") +
                                   "[[rule]]\nid = \"two\"\naction = \"audit\"\n"
                                   "path = \"/usr/bin/curl\"\n"))
                .code,
            0);
  ASSERT_TRUE(a->wait_log("applied web@7", 10s)) << a->log_text();
  a->stop();
  broker_->stop(SIGKILL);

  ASSERT_TRUE(a->start());
  ASSERT_TRUE(a->wait_log("unreachable", 10s)) << a->log_text();
  const std::string log = a->log_text();
  const std::string run2 = log.substr(log.rfind("last-known-good bundle web@7"));
  EXPECT_TRUE(has_line(run2, {"policy generation 1 in force: 2 rules from 1 file(s), mode enforce",
                              "fleet bundles web@7"}))
      << log;

  // Back online: it reports the bundle it kept.
  ASSERT_TRUE(broker_->restart());
  ASSERT_TRUE(wait_for([&] { return row("web-1")["version"] == 7; }, 20s)) << a->log_text();
}

TEST_F(FleetPush, LocalRulesCombineOnlyAsTheBundleAllows) {
  auto a = host("web-1", local(R"(
[[rule]]
id = "local-allow"
action = "allow"
path = "/usr/bin/nc"
)"));
  const std::string strict =
      signer_->sign("web", 1, deny_rules("fleet-deny", "/usr/bin/nc"),
                    {"--local-rules", "after-bundle", "--local-action", "deny"});
  ASSERT_EQ(push(*broker_, "web", strict).code, 0);
  ASSERT_TRUE(
      a->wait_log("rule 'local-allow': action \"allow\" is not open to local rules while "
                  "the fleet bundles web@1 are in force (local rules may: deny)",
                  10s))
      << a->log_text();
  EXPECT_EQ(row("web-1")["version"], 0);

  const std::string open = signer_->sign("web", 2, deny_rules("fleet-deny", "/usr/bin/nc"),
                                         {"--local-rules", "after-bundle"});
  ASSERT_EQ(push(*broker_, "web", open).code, 0);
  ASSERT_TRUE(a->wait_log("applied web@2", 10s)) << a->log_text();
  EXPECT_TRUE(
      has_line(a->log_text(), {"2 rules from 2 file(s), mode enforce", "fleet bundles web@2"}))
      << a->log_text();
}

// Bundles that arrive while one compiles wait; the agent ends on the latest, refusing nothing.
TEST_F(FleetPush, QuickSuccessivePushesEndOnTheLatestVersion) {
  auto a = host("web-1");
  std::string many = "default_action = \"allow\"\n";
  for (int i = 0; i < 1000; ++i) {
    many += fmt::format("[[rule]]\nid = \"r{}\"\naction = \"deny\"\nargs = '^--x{}$'\n", i, i);
  }
  std::vector<std::string> bundles;
  for (uint64_t v = 1; v <= 5; ++v) {
    bundles.push_back(
        signer_->sign("web", v, many, {"--no-check", "--comment", std::to_string(v)}));
  }
  for (const auto& b : bundles) {
    ASSERT_EQ(push(*broker_, "web", b).code, 0);
  }
  ASSERT_TRUE(wait_for([&] { return row("web-1")["version"] == 5; }, 30s)) << a->log_text();
  EXPECT_EQ(a->count_log("fleet: group web: refused"), 0u) << a->log_text();
  EXPECT_EQ(row("web-1")["rules"], 1000);
}

TEST_F(FleetPush, PushToAnUnreachableBrokerFailsWithStatus3) {
  const std::string v1 = signer_->sign("web", 1, deny_rules("a", "/usr/bin/nc"));
  broker_->stop(SIGKILL);
  const RunResult r =
      cli({"push", "--broker", broker_->url(), "--group", "web", "--timeout", "2s", v1});
  EXPECT_EQ(r.code, 3) << r.out;
  EXPECT_EQ(cli({"fleet", "status", "--broker", broker_->url(), "--timeout", "2s"}).code, 3);
}

}  // namespace
}  // namespace cmdgate::test
