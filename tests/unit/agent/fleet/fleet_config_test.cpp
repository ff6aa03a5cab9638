#include "fleet/fleet_config.h"

#include <gtest/gtest.h>

#include "config/config_file.h"

namespace cmdgate::fleet {
namespace {

TEST(FleetConfigFile, ReadsEverySetting) {
  auto c = parse_config(R"(
[fleet]
broker = "mqtts://broker.example:8883"
groups = ["web", "all"]
host_id = "web-17"
trusted_keys = "/etc/k"
state_dir = "/var/lib/s"
ca_file = "/etc/ca.pem"
cert_file = "/etc/c.pem"
key_file = "/etc/c.key"
username = "agent"
password_file = "/etc/pw"
keepalive = "20s"
reconnect_min = "500ms"
reconnect_max = "1m"
max_bundle_size = 2097152
)",
                        "c.toml");
  ASSERT_TRUE(c) << c.error().message;
  const FleetConfig& f = c->fleet;
  EXPECT_TRUE(f.enabled());
  EXPECT_EQ(f.groups, (std::vector<std::string>{"web", "all"}));
  EXPECT_EQ(f.host_id, "web-17");
  EXPECT_EQ(f.trusted_keys, "/etc/k");
  EXPECT_EQ(f.state_dir, "/var/lib/s");
  EXPECT_EQ(f.password_file, "/etc/pw");
  EXPECT_EQ(f.keepalive, std::chrono::seconds(20));
  EXPECT_EQ(f.reconnect_min, std::chrono::milliseconds(500));
  EXPECT_EQ(f.reconnect_max, std::chrono::minutes(1));
  EXPECT_EQ(f.max_bundle_bytes, 2097152u);
  EXPECT_TRUE(validate(f)) << validate(f).error().message;
}

TEST(FleetConfigFile, NoSectionNoFleet) {
  auto c = parse_config("", "c.toml");
  ASSERT_TRUE(c);
  EXPECT_FALSE(c->fleet.enabled());
}

TEST(FleetConfigFile, ValuesAreCheckedWhereTheyAreWritten) {
  auto url = parse_config("[fleet]\nbroker = \"http://x\"\n", "c.toml");
  ASSERT_FALSE(url);
  EXPECT_TRUE(url.error().message.starts_with("c.toml:2:10: key 'fleet.broker': broker URL"))
      << url.error().message;
  auto group = parse_config("[fleet]\ngroups = [\"a/#\"]\n", "c.toml");
  ASSERT_FALSE(group);
  EXPECT_TRUE(group.error().message.starts_with("c.toml:2:10: key 'fleet.groups': group 'a/#'"))
      << group.error().message;
  auto unknown = parse_config("[fleet]\nbrokers = \"mqtt://x\"\n", "c.toml");
  ASSERT_FALSE(unknown);
  EXPECT_TRUE(unknown.error().message.starts_with(
      "c.toml:2:1: unknown key 'fleet.brokers' (valid keys: broker, groups, host_id,"))
      << unknown.error().message;
  auto size = parse_config("[fleet]\nmax_bundle_size = 10\n", "c.toml");
  ASSERT_FALSE(size);
  EXPECT_NE(size.error().message.find("fleet.max_bundle_size"), std::string::npos);
}

TEST(FleetConfigFile, SettingsThatDoNotFitTogetherAreRefused) {
  FleetConfig f;
  f.broker = "mqtt://b";
  f.groups = {"web"};
  EXPECT_NE(validate(f).error().message.find(
                "plaintext MQTT to a broker that is not on this host"),
            std::string::npos);
  f.allow_plaintext = true;
  EXPECT_TRUE(validate(f));
  f.groups.clear();
  EXPECT_EQ(validate(f).error().message, "fleet: a broker is set but no groups: set fleet.groups");
  f.groups = {"web", "web"};
  EXPECT_EQ(validate(f).error().message, "fleet: group 'web' is listed twice");
  f.groups = {"web"};
  f.ca_file = "/ca.pem";
  EXPECT_EQ(validate(f).error().message,
            "fleet: ca_file, cert_file and key_file need an mqtts:// broker");
  f.broker = "mqtts://b";
  f.cert_file = "/c.pem";
  EXPECT_EQ(validate(f).error().message, "fleet: cert_file and key_file go together");
  f.key_file = "/c.key";
  f.password_file = "/pw";
  EXPECT_EQ(validate(f).error().message, "fleet: password_file needs a username");
  f.username = "u";
  EXPECT_TRUE(validate(f));
  f.keepalive = std::chrono::seconds(1);
  EXPECT_EQ(validate(f).error().message, "fleet: keepalive must be from 5s to 18h");
}

}  // namespace
}  // namespace cmdgate::fleet
