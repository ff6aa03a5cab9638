// The flags and the config file read each setting through one parser: what one refuses, the
// other refuses too, with the same words.

#include "config/setting_values.h"

#include <gtest/gtest.h>

#include "config/config_file.h"

namespace cmdgate {
namespace {

TEST(SettingValues, SocketModeIsOctalAndAtMost0777) {
  EXPECT_EQ(*parse_socket_mode("0660"), 0660u);
  EXPECT_EQ(*parse_socket_mode("600"), 0600u);
  EXPECT_EQ(*parse_socket_mode("0777"), 0777u);
  for (const char* bad : {"", "0800", "066x", "01000", "77777", "-660", " 660", "0x1b6"}) {
    const auto flag = parse_socket_mode(bad);
    ASSERT_FALSE(flag) << bad;
    auto c = parse_config(std::string("[approval]\nsocket_mode = \"") + bad + "\"\n", "t.toml");
    ASSERT_FALSE(c.ok()) << bad;
    EXPECT_TRUE(c.error().message.ends_with(": " + flag.error().message)) << c.error().message;
  }
  EXPECT_EQ(parse_socket_mode("0800").error().message,
            "expected an octal mode such as \"0660\" (at most 0777); got '0800'");
}

TEST(SettingValues, RingBufferSizeIsAPowerOfTwoInRange) {
  EXPECT_EQ(*parse_ringbuf_size(4096), 4096u);
  EXPECT_EQ(*parse_ringbuf_size(1 << 20), 1u << 20);
  EXPECT_EQ(*parse_ringbuf_size(int64_t{1} << 30), 1u << 30);
  for (int64_t bad : {int64_t{-4096}, int64_t{0}, int64_t{2048}, int64_t{4097}, int64_t{3} << 20,
                      int64_t{1} << 31}) {
    EXPECT_FALSE(parse_ringbuf_size(bad)) << bad;
  }
}

TEST(SettingValues, FlagsWriteIntegersInDecimal) {
  EXPECT_EQ(*parse_decimal("4096"), 4096);
  for (const char* bad : {"", "0x1000", "4k", " 4096", "4096 ", "99999999999999999999"}) {
    EXPECT_FALSE(parse_decimal(bad)) << bad;
  }
}

TEST(SettingValues, FleetNamesAndBrokerAreCheckedAsInTheConfigFile) {
  EXPECT_EQ(*parse_broker("mqtts://broker.example:8883"), "mqtts://broker.example:8883");
  EXPECT_FALSE(parse_broker("http://x"));
  EXPECT_EQ(*parse_group("web"), "web");
  EXPECT_FALSE(parse_group("a/#"));
  EXPECT_FALSE(parse_host_id("web 17"));
  EXPECT_EQ(*parse_max_bundle_size(1024), 1024u);
  EXPECT_FALSE(parse_max_bundle_size(1023));

  auto c = parse_config("[fleet]\nhost_id = \"web 17\"\n", "t.toml");
  ASSERT_FALSE(c.ok());
  EXPECT_EQ(c.error().message,
            "t.toml:2:11: key 'fleet.host_id': " + parse_host_id("web 17").error().message);
}

TEST(SettingValues, EachWordTableNamesWhatTheConfigFileAccepts) {
  EXPECT_EQ(kModeWords.parse("monitor"), rules::Mode::kMonitor);
  EXPECT_EQ(kDeliveryFailureWords.parse("hold"), CG_FAIL_HOLD);
  EXPECT_EQ(kOnShutdownWords.parse("allow"), rules::Action::kAllow);
  EXPECT_EQ(kEnforcementWords.parse("lsm"), EnforcementMode::kLsm);
  EXPECT_EQ(kUnsafeParkWords.parse("park"), true);
  EXPECT_FALSE(kModeWords.parse("Monitor"));
  EXPECT_EQ(kModeWords.list(), "\"enforce\", \"monitor\"");

  auto c = parse_config(
      "mode = \"monitor\"\non_shutdown = \"allow\"\n[kernel]\n"
      "delivery_failure = \"hold\"\n",
      "t.toml");
  ASSERT_TRUE(c.ok()) << c.error().message;
  EXPECT_EQ(c->mode_override, rules::Mode::kMonitor);
  EXPECT_EQ(c->on_shutdown, rules::Action::kAllow);
  EXPECT_EQ(c->delivery_failure, CG_FAIL_HOLD);
  auto bad = parse_config("mode = \"audit\"\n", "t.toml");
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.error().message,
            "t.toml:1:8: key 'mode': " + kModeWords.read("audit").error().message);
  EXPECT_EQ(kModeWords.read("audit").error().message,
            "expected one of \"enforce\", \"monitor\"; got 'audit'");
}

}  // namespace
}  // namespace cmdgate
