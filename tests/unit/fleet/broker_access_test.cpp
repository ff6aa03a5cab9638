// The daemon's [fleet] settings and the CLI's broker flags go through one check and one reading
// of the password file: what one refuses the other refuses, named as each user writes it.

#include "fleet/broker_access.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <cstdlib>
#include <string>

namespace cmdgate::fleet {
namespace {

TEST(BrokerAccess, EachMisfitIsNamedAsTheConfigFileOrTheFlagsSpellIt) {
  BrokerAccess a{"mqtt://broker.example", "/ca.pem", "", "", "", "", false};
  auto config = check_broker_access(a, Spelling::kConfig);
  ASSERT_FALSE(config.ok());
  EXPECT_EQ(config.error().message, "ca_file, cert_file and key_file need an mqtts:// broker");
  auto flags = check_broker_access(a, Spelling::kFlags);
  ASSERT_FALSE(flags.ok());
  EXPECT_EQ(flags.error().message,
            "--ca-file, --cert-file and --key-file need an mqtts:// broker");

  a = {"mqtts://broker.example", "", "/cert.pem", "", "", "", false};
  EXPECT_EQ(check_broker_access(a, Spelling::kFlags).error().message,
            "--cert-file and --key-file go together");
  a = {"mqtts://broker.example", "", "", "", "", "/pw", false};
  EXPECT_EQ(check_broker_access(a, Spelling::kFlags).error().message,
            "--password-file needs a --username");
  a = {"http://broker.example", "", "", "", "", "", false};
  EXPECT_FALSE(check_broker_access(a, Spelling::kConfig).ok());
  a = {"mqtts://broker.example:8883", "/ca.pem", "/c.pem", "/k.pem", "u", "/pw", false};
  EXPECT_TRUE(check_broker_access(a, Spelling::kConfig).ok());
}

// Plaintext to a remote broker lets anyone on the path replay an older signed bundle to a host
// that lost its state, or withhold new ones: it needs saying so.
TEST(BrokerAccess, PlaintextToARemoteBrokerIsRefusedUnlessAllowed) {
  BrokerAccess remote{"mqtt://broker.example:1883", "", "", "", "", "", false};
  auto config = check_broker_access(remote, Spelling::kConfig);
  ASSERT_FALSE(config.ok());
  EXPECT_EQ(config.error().message,
            "mqtt://broker.example:1883: plaintext MQTT to a broker that is not on this host: "
            "anyone on the path could read, replay or withhold bundles; use mqtts:// (TLS, the "
            "broker's certificate verified) or set allow_plaintext = true");
  auto flags = check_broker_access(remote, Spelling::kFlags);
  ASSERT_FALSE(flags.ok());
  EXPECT_NE(flags.error().message.find("or set --allow-plaintext"), std::string::npos);
  for (const char* url : {"mqtt://10.0.0.1", "mqtt://[2001:db8::1]:1883", "mqtt://128.0.0.1",
                          "mqtt://localhost.example"}) {
    EXPECT_FALSE(check_broker_access({url, "", "", "", "", "", false}, Spelling::kConfig).ok())
        << url;
  }
  remote.allow_plaintext = true;
  EXPECT_TRUE(check_broker_access(remote, Spelling::kConfig).ok());
  for (const char* url : {"mqtt://127.0.0.1:1883", "mqtt://127.8.9.10", "mqtt://localhost",
                          "mqtt://[::1]:1883", "mqtts://broker.example"}) {
    EXPECT_TRUE(check_broker_access({url, "", "", "", "", "", false}, Spelling::kConfig).ok())
        << url;
  }
}

TEST(BrokerAccess, ThePasswordIsTheFirstLineWithoutItsLineEnding) {
  char path[] = "/tmp/cmdgate-password.XXXXXX";
  const int fd = ::mkstemp(path);
  ASSERT_GE(fd, 0);
  const std::string text = "s3cret\r\nsecond line\n";
  ASSERT_EQ(::write(fd, text.data(), text.size()), static_cast<ssize_t>(text.size()));
  ::close(fd);
  ASSERT_EQ(::chmod(path, 0600), 0);
  auto pw = read_password_file(path);
  ASSERT_TRUE(pw.ok()) << pw.error().message;
  EXPECT_EQ(*pw, "s3cret");

  auto options = mqtt_options({"mqtt://127.0.0.1", "", "", "", "user", path}, Spelling::kFlags,
                              "client");
  ASSERT_TRUE(options.ok()) << options.error().message;
  EXPECT_EQ(options->password, "s3cret");
  EXPECT_EQ(options->username, "user");
  EXPECT_EQ(options->client_id, "client");

  ASSERT_EQ(::chmod(path, 0644), 0);  // readable by others: not a secret any more
  EXPECT_FALSE(read_password_file(path).ok());
  ::unlink(path);
}

}  // namespace
}  // namespace cmdgate::fleet
