// etc/cmdgate.toml, installed as /etc/cmdgate/cmdgate.toml, shows every setting with its default
// as a commented-out line. Uncommented, those lines must parse and change nothing: otherwise the
// file documents a default the daemon does not have.

#include <gtest/gtest.h>

#include <fstream>
#include <regex>
#include <set>
#include <sstream>

#include "config/config_file.h"

namespace cmdgate {
namespace {

std::string shipped() {
  std::ifstream f(std::string(CMDGATE_SOURCE_DIR) + "/etc/cmdgate.toml");
  std::stringstream ss;
  ss << f.rdbuf();
  return ss.str();
}

TEST(ShippedConfig, LoadsAndNamesTheRulesDirectory) {
  auto c = parse_config(shipped(), "etc/cmdgate.toml");
  ASSERT_TRUE(c.ok()) << c.error().message;
  EXPECT_EQ(c->rule_paths, std::vector<std::string>{"/etc/cmdgate/rules.d"});
  EXPECT_FALSE(c->mode_override);
}

TEST(ShippedConfig, CommentedSettingsAreTheDefaults) {
  // "#key = value" lines are settings; prose comments have no " = " after a bare key.
  const std::regex setting(R"(^#([a-z_]+) = (.*)$)");
  std::istringstream in(shipped());
  std::string text, line, section;
  std::set<std::string> keys;
  while (std::getline(in, line)) {
    std::smatch m;
    if (line.starts_with("[")) {
      section = line.substr(1, line.size() - 2) + ".";
    }
    if (std::regex_match(line, m, setting)) {
      keys.insert(section + m[1].str());
      if (m[1] == "mode") {
        continue;  // an example: the default is no override at all
      }
      line = line.substr(1);
    }
    text += line + "\n";
  }
  EXPECT_EQ(keys, (std::set<std::string>{
                      "mode", "audit_log", "log_level", "on_shutdown", "kernel.ringbuf_size",
                      "kernel.delivery_failure", "kernel.daemon_stale_after", "kernel.pin_dir",
                      "approval.socket", "approval.approver_group", "approval.socket_mode",
                      "approval.when_no_approver", "approval.local_rules_file",
                      "approval.unsafe_park", "approval.notify", "approval.notify_timeout",
                      "approval.authenticate", "metrics.listen",
                      "metrics.exposure"}));
  auto c = parse_config(text, "etc/cmdgate.toml (uncommented)");
  ASSERT_TRUE(c.ok()) << c.error().message;
  const DaemonConfig d;
  EXPECT_EQ(c->audit_log, d.audit_log);
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
  EXPECT_EQ(c->metrics_beyond_loopback, d.metrics_beyond_loopback);
}

}  // namespace
}  // namespace cmdgate
