// The rollback floor end to end (docs/fleet.md, "Rollback protection"): whatever becomes of the
// saved bundle at start (unreadable, no longer combining with the local rules), a broker that
// replays an older validly signed bundle is refused; and a plaintext broker off this host is not
// used unless the configuration says so.

#include <filesystem>

#include "fleet_kit.h"

namespace cmdgate::test {
namespace {

using namespace std::chrono_literals;
using nlohmann::json;

std::string deny_rules(const std::string& id, const std::string& path) {
  return fmt::format("default_action = \"allow\"\n[[rule]]\nid = \"{}\"\naction = \"deny\"\n"
                     "path = \"{}\"\n",
                     id, path);
}

class FleetFloor : public ::testing::Test {
 protected:
  void SetUp() override {
    CMDGATE_REQUIRE_MOSQUITTO();
    broker_ = Broker::start();
    ASSERT_TRUE(broker_);
    signer_ = std::make_unique<Signer>();
  }

  std::unique_ptr<FleetHost> host(const std::string& local_rules = "") {
    FleetHost::Options o;
    o.host = "web-1";
    o.local_rules = local_rules;
    o.trusted = {signer_->public_key()};
    auto h = std::make_unique<FleetHost>(*broker_, std::move(o));
    EXPECT_TRUE(h->start());
    return h;
  }

  json row() {
    const json j = fleet_status(*broker_, "web");
    if (j.is_null()) {
      return nullptr;
    }
    for (const auto& r : j["hosts"]) {
      if (r["host"] == "web-1") {
        return r;
      }
    }
    return nullptr;
  }

  std::unique_ptr<Broker> broker_;
  std::unique_ptr<Signer> signer_;
};

// The saved bundle is destroyed while the agent is down, and the broker then offers version 1
// (validly signed, but older than the version 2 the agent accepted): refused by the floor. The
// lost version 2 itself is taken back.
TEST_F(FleetFloor, ACorruptedSavedBundleDoesNotLetAnOlderBundleBack) {
  auto a = host();
  const std::string v1 = signer_->sign("web", 1, deny_rules("r1", "/usr/bin/nc"));
  const std::string v2 = signer_->sign("web", 2, deny_rules("r2", "/usr/bin/nc"));
  ASSERT_EQ(push(*broker_, "web", v1).code, 0);
  ASSERT_TRUE(a->wait_log("applied web@1", 10s)) << a->log_text();
  ASSERT_EQ(push(*broker_, "web", v2).code, 0);
  ASSERT_TRUE(a->wait_log("applied web@2", 10s)) << a->log_text();
  ASSERT_TRUE(wait_for([&] { return row()["floor"] == 2; }, 10s)) << row().dump();
  EXPECT_EQ(row()["floor_unknown"], false);
  a->stop();

  write_file(a->state_dir() + "/web.bundle", "not a bundle any more");
  ASSERT_EQ(push(*broker_, "web", v1).code, 0);  // what the broker now holds, retained
  ASSERT_TRUE(a->start());
  ASSERT_TRUE(a->wait_log("version 1 is older than version 2, the highest accepted (the rollback "
                          "floor; not in force): rollback refused",
                          10s))
      << a->log_text();
  EXPECT_NE(a->log_text().find("not using a saved file: " + a->state_dir() + "/web.bundle"),
            std::string::npos)
      << a->log_text();
  ASSERT_TRUE(wait_for([&] { return row()["rejected"] == 1; }, 10s)) << row().dump();
  const json r = row();
  EXPECT_EQ(r["version"], 0);
  EXPECT_EQ(r["floor"], 2);
  EXPECT_NE(r["saved_bundle_error"].get<std::string>().find("web.bundle"), std::string::npos)
      << r.dump();
  EXPECT_EQ(a->count_log("applied web@1"), 1u) << a->log_text();  // the first run's only

  // The version the floor records comes back from the broker: in force again.
  ASSERT_EQ(push(*broker_, "web", v2).code, 0);
  ASSERT_TRUE(a->wait_log("is the version of the rollback floor, whose saved copy was lost", 10s))
      << a->log_text();
  ASSERT_TRUE(wait_for([&] { return row()["version"] == 2; }, 10s)) << row().dump();
  EXPECT_EQ(row()["saved_bundle_error"], "");
}

// The floor record itself is unreadable at start: what it said is unknown, so even a newer,
// validly signed bundle is refused, and the status says the floor is unknown instead of showing 0.
TEST_F(FleetFloor, AnUnreadableFloorRecordRefusesEveryBundleAndSaysSo) {
  auto a = host();
  ASSERT_EQ(push(*broker_, "web", signer_->sign("web", 1, deny_rules("r1", "/usr/bin/nc"))).code,
            0);
  ASSERT_TRUE(a->wait_log("applied web@1", 10s)) << a->log_text();
  a->stop();

  write_file(a->state_dir() + "/web.floor", "not a floor record");
  ASSERT_EQ(push(*broker_, "web", signer_->sign("web", 3, deny_rules("r3", "/usr/bin/nc"))).code,
            0);
  ASSERT_TRUE(a->start());
  ASSERT_TRUE(a->wait_log("the rollback floor of group 'web' is unknown", 10s)) << a->log_text();
  ASSERT_TRUE(wait_for([&] { return row()["rejected"] == 1; }, 10s)) << row().dump();
  EXPECT_EQ(row()["floor_unknown"], true) << row().dump();
  EXPECT_EQ(a->count_log("applied web@3"), 0u) << a->log_text();
}

// At start the saved version 2 no longer combines with the local rules (a local "allow" rule it
// does not admit): the agent starts from the local rules alone, and the floor stays at 2, so the
// older version 1 (which would combine) is still refused.
TEST_F(FleetFloor, ALocalRuleThatNoLongerCombinesDoesNotResetTheFloor) {
  auto a = host(deny_rules("local-deny", "/usr/bin/local"));
  const std::string v1 = signer_->sign("web", 1, deny_rules("r1", "/usr/bin/nc"),
                                       {"--local-rules", "after-bundle"});
  const std::string v2 = signer_->sign("web", 2, deny_rules("r2", "/usr/bin/nc"),
                                       {"--local-rules", "after-bundle", "--local-action", "deny"});
  ASSERT_EQ(push(*broker_, "web", v2).code, 0);
  ASSERT_TRUE(a->wait_log("applied web@2", 10s)) << a->log_text();
  a->stop();

  a->set_local_rules(
      "[[rule]]\nid = \"local-allow\"\naction = \"allow\"\npath = \"/usr/bin/nc\"\n");
  ASSERT_EQ(push(*broker_, "web", v1).code, 0);
  ASSERT_TRUE(a->start());
  ASSERT_TRUE(
      a->wait_log("the last-known-good bundles cannot be combined with the local rules", 10s))
      << a->log_text();
  ASSERT_TRUE(a->wait_log("version 1 is older than version 2, the highest accepted", 10s))
      << a->log_text();
  ASSERT_TRUE(wait_for([&] { return row()["rejected"] == 1; }, 10s)) << row().dump();
  const json r = row();
  EXPECT_EQ(r["version"], 0);
  EXPECT_EQ(r["floor"], 2);
  EXPECT_NE(r["saved_bundle_error"].get<std::string>().find(
                "web@2 cannot be combined with the local rules"),
            std::string::npos)
      << r.dump();
  EXPECT_EQ(a->count_log("applied web@1"), 0u) << a->log_text();
}

// Plaintext MQTT to a broker that is not on this host: cmdgated does not start without
// allow_plaintext = true (TEST-NET-1 address: nothing is ever reached).
TEST_F(FleetFloor, ARemotePlaintextBrokerIsRefusedWithoutTheSetting) {
  const TempDir dir;
  const std::string keys = dir.file("keys");
  std::filesystem::create_directory(keys);
  copy_file(signer_->public_key(), keys + "/ops.pub", 0644);
  const std::vector<std::string> args = {"--evaluation-only",     "--fleet-broker",
                                         "mqtt://192.0.2.1:1883", "--fleet-group",
                                         "web",                   "--fleet-state-dir",
                                         dir.file("state"),       "--trusted-keys",
                                         keys};
  auto refused = Agent::start(Agent::Options("default_action = \"allow\"\n", args, false));
  ASSERT_TRUE(refused);
  ASSERT_TRUE(wait_for([&] { return !refused->alive(); }, 10s)) << refused->log_text();
  EXPECT_NE(refused->log_text().find("mqtt://192.0.2.1:1883: plaintext MQTT to a broker that is "
                                     "not on this host"),
            std::string::npos)
      << refused->log_text();

  std::vector<std::string> allowed_args = args;
  allowed_args.insert(allowed_args.end(), {"--fleet-allow-plaintext", "true"});
  auto allowed = Agent::start(Agent::Options("default_action = \"allow\"\n", allowed_args));
  ASSERT_TRUE(allowed) << "with --fleet-allow-plaintext true the daemon starts";
  EXPECT_EQ(allowed->log_text().find("plaintext MQTT"), std::string::npos);
}

}  // namespace
}  // namespace cmdgate::test
