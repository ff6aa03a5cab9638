// The libraries only the fleet (libmosquitto), metrics (libmicrohttpd) and package trust (nettle's
// MD5) need are opened when those start, not at exec (daemon_binary_test.cpp), and each opens
// with every function the code calls.

#include <gtest/gtest.h>

#include <string>

#include "fleet/mosquitto_api.h"
#include "metrics/microhttpd_api.h"
#include "processes.h"
#include "trust/md5.h"

namespace cmdgate {
namespace {

TEST(OptionalLibraries, EachOpensWithEveryFunctionOnce) {
  auto mqtt = fleet::mosquitto_api();
  ASSERT_TRUE(mqtt) << mqtt.error().message;
  EXPECT_NE((*mqtt)->mosquitto_loop, nullptr);
  EXPECT_EQ(*fleet::mosquitto_api(), *mqtt);
  auto http = microhttpd_api();
  ASSERT_TRUE(http) << http.error().message;
  EXPECT_NE((*http)->MHD_start_daemon, nullptr);
  EXPECT_EQ(*microhttpd_api(), *http);
  auto md5 = trust::nettle_md5_api();
  ASSERT_TRUE(md5) << md5.error().message;
  EXPECT_NE((*md5)->nettle_md5_digest, nullptr);
  EXPECT_EQ(*trust::nettle_md5_api(), *md5);
}

TEST(OptionalLibraries, AMissingLibraryOrFunctionIsAnErrorNamingIt) {
  auto none = SharedLibrary::open("libcmdgate-no-such-library.so.0");
  ASSERT_FALSE(none);
  EXPECT_NE(none.error().message.find("libcmdgate-no-such-library.so.0"), std::string::npos);
  auto libc = SharedLibrary::open("libc.so.6");
  ASSERT_TRUE(libc) << libc.error().message;
  int (*f)(int) = nullptr;
  const Status missing = libc->load(f, "cmdgate_no_such_function");
  ASSERT_FALSE(missing);
  EXPECT_NE(missing.error().message.find("cmdgate_no_such_function"), std::string::npos);
  EXPECT_EQ(f, nullptr);
  ASSERT_TRUE(libc->load(f, "abs"));
  EXPECT_EQ(f(-3), 3);
}

}  // namespace
}  // namespace cmdgate
