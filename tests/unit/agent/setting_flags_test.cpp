// cmdgated's flags read each setting with the config file's parser: they take what the file
// takes, refuse what it refuses with the same words, and win over it.

#include "config/setting_flags.h"

#include <gtest/gtest.h>

#include <CLI/CLI.hpp>
#include <algorithm>
#include <string>
#include <vector>

#include "config/config_file.h"

namespace cmdgate {
namespace {

Result<DaemonConfig> with_flags(std::vector<std::string> args, DaemonConfig base = {}) {
  CLI::App app;
  SettingFlags flags(app);
  std::reverse(args.begin(), args.end());  // CLI11 takes them last first
  try {
    app.parse(args);
  } catch (const CLI::ParseError& e) {
    return Error{e.what()};
  }
  flags.apply(base);
  return base;
}

TEST(SettingFlags, SetWhatTheConfigFileSets) {
  auto flags = with_flags({"--rules",  "/r1",
                           "/r2",      "--mode",
                           "monitor",  "--ringbuf-size",
                           "8192",     "--delivery-failure",
                           "hold",     "--pin-dir",
                           "",         "--socket-mode",
                           "0600",     "--authenticate",
                           "always",   "--unsafe-park",
                           "park",     "--log-level",
                           "debug",    "--fleet-broker",
                           "mqtt://b", "--fleet-group",
                           "web",      "--fleet-group",
                           "all",      "--host-id",
                           "h1",       "--fleet-state-dir",
                           "/s",       "--fleet-allow-plaintext",
                           "true"});
  ASSERT_TRUE(flags) << flags.error().message;
  auto file = parse_config(R"(
rules = ["/r1", "/r2"]
mode = "monitor"
log_level = "debug"
[kernel]
ringbuf_size = 8192
delivery_failure = "hold"
pin_dir = ""
[approval]
socket_mode = "0600"
authenticate = "always"
unsafe_park = "park"
[fleet]
broker = "mqtt://b"
groups = ["web", "all"]
host_id = "h1"
state_dir = "/s"
allow_plaintext = true
)",
                           "c.toml");
  ASSERT_TRUE(file) << file.error().message;
  EXPECT_EQ(flags->rule_paths, file->rule_paths);
  EXPECT_EQ(flags->mode_override, file->mode_override);
  EXPECT_EQ(flags->log_level, file->log_level);
  EXPECT_EQ(flags->ringbuf_bytes, file->ringbuf_bytes);
  EXPECT_EQ(flags->delivery_failure, file->delivery_failure);
  EXPECT_EQ(flags->pin_dir, file->pin_dir);
  EXPECT_EQ(flags->socket_mode, file->socket_mode);
  EXPECT_EQ(flags->authenticate, file->authenticate);
  EXPECT_EQ(flags->park_where_unsafe, file->park_where_unsafe);
  EXPECT_EQ(flags->fleet.broker, file->fleet.broker);
  EXPECT_EQ(flags->fleet.groups, file->fleet.groups);
  EXPECT_EQ(flags->fleet.host_id, file->fleet.host_id);
  EXPECT_EQ(flags->fleet.state_dir, file->fleet.state_dir);
  EXPECT_TRUE(flags->fleet.allow_plaintext);
  EXPECT_EQ(flags->fleet.allow_plaintext, file->fleet.allow_plaintext);
}

TEST(SettingFlags, RefuseWhatTheConfigFileRefusesInTheSameWords) {
  struct Case {
    std::string flag, value, file;
  };
  const Case cases[] = {
      {"--mode", "audit", "mode = \"audit\""},
      {"--ringbuf-size", "5000", "[kernel]\nringbuf_size = 5000"},
      {"--enforcement", "kprobe", "[kernel]\nenforcement = \"kprobe\""},
      {"--socket-mode", "0800", "[approval]\nsocket_mode = \"0800\""},
      {"--authenticate", "same_uid", "[approval]\nauthenticate = \"same_uid\""},
      {"--fleet-broker", "http://b", "[fleet]\nbroker = \"http://b\""},
      {"--fleet-group", "a/#", "[fleet]\ngroups = [\"a/#\"]"},
      {"--host-id", "a/b", "[fleet]\nhost_id = \"a/b\""},
  };
  for (const Case& c : cases) {
    auto flag = with_flags({c.flag, c.value});
    ASSERT_FALSE(flag) << c.flag;
    auto file = parse_config(c.file + "\n", "c.toml");
    ASSERT_FALSE(file) << c.file;
    const std::string why = flag.error().message.substr(c.flag.size() + 2);
    EXPECT_EQ(flag.error().message, c.flag + ": " + why);
    EXPECT_TRUE(file.error().message.ends_with("': " + why))
        << file.error().message << "\nversus the flag's\n"
        << flag.error().message;
  }
}

TEST(SettingFlags, WinOverTheConfigFile) {
  auto file = parse_config("mode = \"enforce\"\n[kernel]\npin_dir = \"/p\"\n", "c.toml");
  ASSERT_TRUE(file);
  auto c = with_flags({"--mode", "monitor"}, *file);
  ASSERT_TRUE(c) << c.error().message;
  EXPECT_EQ(c->mode_override, rules::Mode::kMonitor);
  EXPECT_EQ(c->pin_dir, "/p");
}

}  // namespace
}  // namespace cmdgate
