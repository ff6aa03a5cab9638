// The metrics listener binds loopback unless the operator allows other addresses.

#include "metrics/http_exporter.h"

#include <arpa/inet.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

namespace cmdgate {
namespace {

using ::testing::HasSubstr;

// A TCP port nothing listens on right now.
uint16_t free_port() {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof(a);
  EXPECT_EQ(::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof(a)), 0);
  EXPECT_EQ(::getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len), 0);
  ::close(fd);
  return ntohs(a.sin_port);
}

TEST(HttpExporter, OnlyLoopbackUnlessAllowed) {
  const std::string any = "0.0.0.0:" + std::to_string(free_port());
  auto refused = HttpExporter::start(any, false);
  ASSERT_FALSE(refused.ok());
  EXPECT_THAT(refused.error().message,
              HasSubstr("is not a loopback address (set [metrics] exposure = \"network\""));
  auto allowed = HttpExporter::start(any, true);
  ASSERT_TRUE(allowed.ok()) << allowed.error().message;
  EXPECT_GT((*allowed)->port(), 0);
}

TEST(HttpExporter, LoopbackNeedsNoPermission) {
  auto e = HttpExporter::start("127.0.0.1:" + std::to_string(free_port()), false);
  EXPECT_TRUE(e.ok()) << e.error().message;
}

TEST(HttpExporter, AHostNameIsNoAddress) {
  auto e = HttpExporter::start("localhost:9464", true);
  ASSERT_FALSE(e.ok());
  EXPECT_THAT(e.error().message, HasSubstr("needs a numeric IPv4 address"));
}

}  // namespace
}  // namespace cmdgate
