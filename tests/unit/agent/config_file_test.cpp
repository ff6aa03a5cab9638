#include "config/config_file.h"

#include <gtest/gtest.h>

namespace cmdgate {
namespace {

TEST(ConfigFile, ReadsEverySetting) {
  auto c = parse_config(R"(
rules = ["/etc/cmdgate/rules.d", "/etc/cmdgate/local.toml"]
mode = "monitor"
audit_log = "/tmp/d.jsonl"
log_level = "debug"
on_shutdown = "allow"
[kernel]
ringbuf_size = 1048576
delivery_failure = "hold"
daemon_stale_after = "3s"
pin_dir = ""
enforcement = "tracepoint"
)",
                        "cmdgate.toml");
  ASSERT_TRUE(c.ok()) << c.error().message;
  EXPECT_EQ(c->rule_paths.size(), 2u);
  EXPECT_EQ(c->mode_override, rules::Mode::kMonitor);
  EXPECT_EQ(c->audit_log, "/tmp/d.jsonl");
  EXPECT_EQ(c->on_shutdown, rules::Action::kAllow);
  EXPECT_EQ(c->ringbuf_bytes, 1048576u);
  EXPECT_EQ(c->delivery_failure, CG_FAIL_HOLD);
  EXPECT_EQ(c->daemon_stale_after, std::chrono::seconds(3));
  EXPECT_EQ(c->pin_dir, "");
  EXPECT_EQ(c->enforcement, EnforcementMode::kTracepoint);
}

TEST(ConfigFile, DefaultsWhenEmpty) {
  auto c = parse_config("", "empty.toml");
  ASSERT_TRUE(c.ok());
  EXPECT_EQ(c->delivery_failure, CG_FAIL_KILL);
  EXPECT_EQ(c->on_shutdown, rules::Action::kDeny);
  EXPECT_FALSE(c->mode_override);
  EXPECT_EQ(c->enforcement, EnforcementMode::kAuto);
}

TEST(ConfigFile, ErrorsNameThePlace) {
  auto unknown = parse_config("rules = \"/x\"\nverbose = true\n", "c.toml");
  ASSERT_FALSE(unknown.ok());
  EXPECT_EQ(unknown.error().message,
            "c.toml:2:1: unknown top-level key 'verbose' (valid keys: rules, mode, audit_log, "
            "audit_log_max_size, audit_log_files, last_known_good, log_level, on_shutdown, "
            "kernel, approval, metrics, fleet)");

  auto nested = parse_config("[kernel]\nringbuf = 4096\n", "c.toml");
  ASSERT_FALSE(nested.ok());
  EXPECT_EQ(nested.error().message,
            "c.toml:2:1: unknown key 'kernel.ringbuf' (valid keys: ringbuf_size, "
            "delivery_failure, daemon_stale_after, pin_dir, enforcement)");

  auto bad_choice = parse_config("[kernel]\ndelivery_failure = \"open\"\n", "c.toml");
  ASSERT_FALSE(bad_choice.ok());
  EXPECT_NE(bad_choice.error().message.find("c.toml:2:20: key 'kernel.delivery_failure'"),
            std::string::npos)
      << bad_choice.error().message;

  auto bad_enforcement = parse_config("[kernel]\nenforcement = \"kprobe\"\n", "c.toml");
  ASSERT_FALSE(bad_enforcement.ok());
  EXPECT_EQ(bad_enforcement.error().message,
            "c.toml:2:15: key 'kernel.enforcement': expected one of \"auto\", \"lsm\", "
            "\"tracepoint\"; got 'kprobe'");

  auto wrong_type = parse_config("audit_log = 3\n", "c.toml");
  ASSERT_FALSE(wrong_type.ok());
  EXPECT_EQ(wrong_type.error().message,
            "c.toml:1:13: key 'audit_log': expected a string, got an integer");

  auto not_a_table = parse_config("kernel = 1\n", "c.toml");
  ASSERT_FALSE(not_a_table.ok());
  EXPECT_EQ(not_a_table.error().message,
            "c.toml:1:10: key 'kernel': expected a table ([kernel]), got an integer");

  auto not_pow2 = parse_config("[kernel]\nringbuf_size = 5000\n", "c.toml");
  ASSERT_FALSE(not_pow2.ok());
  EXPECT_EQ(not_pow2.error().message,
            "c.toml:2:16: key 'kernel.ringbuf_size': expected a power of two from 4096 to 2^30; "
            "got 5000");

  auto syntax = parse_config("rules = [", "c.toml");
  ASSERT_FALSE(syntax.ok());
  EXPECT_EQ(syntax.error().message.rfind("c.toml:1:", 0), 0u) << syntax.error().message;
  EXPECT_NE(syntax.error().message.find(": TOML syntax error: "), std::string::npos);
}

}  // namespace
}  // namespace cmdgate
