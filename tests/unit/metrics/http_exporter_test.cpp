// The metrics listener binds loopback unless the operator allows other addresses, and serves the
// latest text at GET /metrics.

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

// One HTTP/1.0 request on loopback; the whole response.
std::string http_get(uint16_t port, const std::string& path) {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  a.sin_port = htons(port);
  EXPECT_EQ(::connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof(a)), 0);
  const std::string request = "GET " + path + " HTTP/1.0\r\n\r\n";
  EXPECT_EQ(::write(fd, request.data(), request.size()), static_cast<ssize_t>(request.size()));
  std::string response;
  char buf[4096];
  for (ssize_t n; (n = ::read(fd, buf, sizeof(buf))) > 0;) {
    response.append(buf, static_cast<size_t>(n));
  }
  ::close(fd);
  return response;
}

TEST(HttpExporter, ServesTheLatestTextAtMetricsOnly) {
  auto e = HttpExporter::start("127.0.0.1:" + std::to_string(free_port()), false);
  ASSERT_TRUE(e.ok()) << e.error().message;
  (*e)->update("cmdgate_test_total 1\n");
  (*e)->update("cmdgate_test_total 2\n");
  const std::string metrics = http_get((*e)->port(), "/metrics");
  EXPECT_THAT(metrics, ::testing::StartsWith("HTTP/1.1 200"));
  EXPECT_THAT(metrics, HasSubstr("Content-Type: text/plain; version=0.0.4"));
  EXPECT_THAT(metrics, ::testing::EndsWith("\r\n\r\ncmdgate_test_total 2\n"));
  const std::string other = http_get((*e)->port(), "/");
  EXPECT_THAT(other, ::testing::StartsWith("HTTP/1.1 404"));
  EXPECT_THAT(other, ::testing::Not(HasSubstr("cmdgate_test_total")));
}

TEST(HttpExporter, AHostNameIsNoAddress) {
  auto e = HttpExporter::start("localhost:9464", true);
  ASSERT_FALSE(e.ok());
  EXPECT_THAT(e.error().message, HasSubstr("needs a numeric IPv4 address"));
}

}  // namespace
}  // namespace cmdgate
