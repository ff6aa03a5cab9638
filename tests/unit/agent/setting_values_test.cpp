// The flags and the config file read each setting through one parser: what one refuses, the
// other refuses too.

#include "config/setting_values.h"

#include <gtest/gtest.h>

#include "config/config_file.h"

namespace cmdgate {
namespace {

TEST(SettingValues, SocketModeIsOctalAndAtMost0777) {
  EXPECT_EQ(parse_socket_mode("0660"), 0660u);
  EXPECT_EQ(parse_socket_mode("600"), 0600u);
  EXPECT_EQ(parse_socket_mode("0777"), 0777u);
  for (const char* bad : {"", "0800", "066x", "01000", "77777", "-660", " 660", "0x1b6"}) {
    EXPECT_FALSE(parse_socket_mode(bad)) << bad;
    auto c = parse_config(std::string("[approval]\nsocket_mode = \"") + bad + "\"\n", "t.toml");
    EXPECT_FALSE(c.ok()) << bad;
  }
}

TEST(SettingValues, RingBufferSizeIsAPowerOfTwoInRange) {
  EXPECT_TRUE(valid_ringbuf_size(4096));
  EXPECT_TRUE(valid_ringbuf_size(1u << 20));
  EXPECT_TRUE(valid_ringbuf_size(uint64_t{1} << 30));
  for (uint64_t bad : {uint64_t{0}, uint64_t{2048}, uint64_t{4097}, uint64_t{3} << 20,
                       uint64_t{1} << 31}) {
    EXPECT_FALSE(valid_ringbuf_size(bad)) << bad;
  }
}

TEST(SettingValues, EachWordTableNamesWhatTheConfigFileAccepts) {
  EXPECT_EQ(kModeWords.parse("monitor"), rules::Mode::kMonitor);
  EXPECT_EQ(kDeliveryFailureWords.parse("hold"), CG_FAIL_HOLD);
  EXPECT_EQ(kOnShutdownWords.parse("allow"), rules::Action::kAllow);
  EXPECT_EQ(kEnforcementWords.parse("lsm"), EnforcementMode::kLsm);
  EXPECT_EQ(kUnsafeParkWords.parse("park"), true);
  EXPECT_FALSE(kModeWords.parse("Monitor"));
  EXPECT_EQ(kModeWords.list(), "'enforce', 'monitor'");

  auto c = parse_config("mode = \"monitor\"\non_shutdown = \"allow\"\n[kernel]\n"
                        "delivery_failure = \"hold\"\n",
                        "t.toml");
  ASSERT_TRUE(c.ok()) << c.error().message;
  EXPECT_EQ(c->mode_override, rules::Mode::kMonitor);
  EXPECT_EQ(c->on_shutdown, rules::Action::kAllow);
  EXPECT_EQ(c->delivery_failure, CG_FAIL_HOLD);
  auto bad = parse_config("mode = \"audit\"\n", "t.toml");
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.error().message.find("t.toml:1:"), std::string::npos) << bad.error().message;
  EXPECT_NE(bad.error().message.find("'enforce', 'monitor'"), std::string::npos);
}

}  // namespace
}  // namespace cmdgate
