// etc/cmdgate.toml, installed as /etc/cmdgate/cmdgate.toml, shows every setting with its default
// as a commented-out line. Uncommented, those lines must parse and change nothing: otherwise the
// file documents a default the daemon does not have.

#include <gtest/gtest.h>

#include <algorithm>
#include <fstream>
#include <regex>
#include <set>
#include <sstream>

#include "config/config_file.h"
#include "processes.h"

namespace cmdgate {
namespace {

std::string shipped() {
  return test::read_file(std::string(CMDGATE_SOURCE_DIR) + "/etc/cmdgate.toml");
}

TEST(ShippedConfig, LoadsAndNamesTheRulesDirectory) {
  auto c = parse_config(shipped(), "etc/cmdgate.toml");
  ASSERT_TRUE(c.ok()) << c.error().message;
  EXPECT_EQ(c->rule_paths, std::vector<std::string>{"/etc/cmdgate/rules.d"});
  EXPECT_FALSE(c->mode_override);
}

TEST(ShippedConfig, CommentedSettingsAreTheDefaults) {
  // "key = value" and "#key = value" lines are settings; prose comments and indented examples
  // have no bare key at the start of the line.
  const std::regex setting(R"(^(#?)([a-z_]+) = (.*)$)");
  // Settings without a default: their lines are examples, so uncommenting them would change
  // something.
  const std::set<std::string> examples = {
      "mode",           "fleet.broker",    "fleet.groups",   "fleet.host_id",
      "fleet.ca_file",  "fleet.cert_file", "fleet.key_file", "fleet.username",
      "fleet.password_file"};
  std::istringstream in(shipped());
  std::string text, line, section;
  std::vector<std::string> keys;
  while (std::getline(in, line)) {
    std::smatch m;
    if (line.starts_with("[")) {
      section = line.substr(1, line.size() - 2) + ".";
    }
    if (std::regex_match(line, m, setting)) {
      keys.push_back(section + m[2].str());
      if (m[1].length() == 0 || examples.contains(keys.back())) {
        text += line + "\n";
        continue;
      }
      line = line.substr(1);
    }
    text += line + "\n";
  }
  // Every setting the reader knows, each once: a setting added to the reader without a line here
  // fails this test.
  std::vector<std::string> known = setting_keys();
  std::ranges::sort(keys);
  std::ranges::sort(known);
  EXPECT_EQ(keys, known);
  auto c = parse_config(text, "etc/cmdgate.toml (uncommented)");
  ASSERT_TRUE(c.ok()) << c.error().message;
  const DaemonConfig d;
  EXPECT_EQ(c->audit_log, d.audit_log);
  EXPECT_EQ(c->last_known_good, d.last_known_good);
  EXPECT_EQ(c->audit_log_rotation.max_bytes, d.audit_log_rotation.max_bytes);
  EXPECT_EQ(c->audit_log_rotation.max_files, d.audit_log_rotation.max_files);
  EXPECT_EQ(c->log_level, d.log_level);
  EXPECT_EQ(c->on_shutdown, d.on_shutdown);
  EXPECT_EQ(c->ringbuf_bytes, d.ringbuf_bytes);
  EXPECT_EQ(c->delivery_failure, d.delivery_failure);
  EXPECT_EQ(c->daemon_stale_after, d.daemon_stale_after);
  EXPECT_EQ(c->pin_dir, d.pin_dir);
  EXPECT_EQ(c->socket_path, d.socket_path);
  EXPECT_EQ(c->approver_group, d.approver_group);
  EXPECT_EQ(c->socket_mode, d.socket_mode);
  EXPECT_EQ(c->fallback_when_no_approver, d.fallback_when_no_approver);
  EXPECT_EQ(c->local_rules_file, d.local_rules_file);
  EXPECT_EQ(c->authenticate, d.authenticate);
  EXPECT_EQ(c->metrics_listen, d.metrics_listen);
  EXPECT_EQ(c->enforcement, d.enforcement);
  EXPECT_EQ(c->fleet.trusted_keys, d.fleet.trusted_keys);
  EXPECT_EQ(c->fleet.state_dir, d.fleet.state_dir);
  EXPECT_EQ(c->fleet.keepalive, d.fleet.keepalive);
  EXPECT_EQ(c->fleet.reconnect_min, d.fleet.reconnect_min);
  EXPECT_EQ(c->fleet.reconnect_max, d.fleet.reconnect_max);
  EXPECT_EQ(c->fleet.max_bundle_bytes, d.fleet.max_bundle_bytes);
  EXPECT_EQ(c->metrics_beyond_loopback, d.metrics_beyond_loopback);
}

}  // namespace
}  // namespace cmdgate
