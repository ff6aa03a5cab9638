#include "fleet/broker_url.h"

#include <gtest/gtest.h>

namespace cmdgate::fleet {
namespace {

TEST(BrokerUrl, SchemesHostsAndPorts) {
  auto plain = parse_broker_url("mqtt://broker.example");
  ASSERT_TRUE(plain) << plain.error().message;
  EXPECT_FALSE(plain->tls);
  EXPECT_EQ(plain->host, "broker.example");
  EXPECT_EQ(plain->port, 1883);

  auto tls = parse_broker_url("mqtts://10.0.0.1:9883/");
  ASSERT_TRUE(tls) << tls.error().message;
  EXPECT_TRUE(tls->tls);
  EXPECT_EQ(tls->host, "10.0.0.1");
  EXPECT_EQ(tls->port, 9883);

  auto v6 = parse_broker_url("mqtt://[::1]:1884");
  ASSERT_TRUE(v6) << v6.error().message;
  EXPECT_EQ(v6->host, "::1");
  EXPECT_EQ(v6->port, 1884);
}

TEST(BrokerUrl, MalformedUrlsSayWhy) {
  for (const char* bad :
       {"tcp://h", "mqtt://", "mqtt://h:0", "mqtt://h:65536", "mqtt://h:x",
        "mqtt://h:", "mqtt://user:pw@h", "mqtt://h/path", "mqtt://::1", "mqtt://[::1"}) {
    auto r = parse_broker_url(bad);
    EXPECT_FALSE(r) << bad;
    if (!r) {
      EXPECT_NE(r.error().message.find(std::string("broker URL '") + bad + "'"), std::string::npos);
    }
  }
}

}  // namespace
}  // namespace cmdgate::fleet
