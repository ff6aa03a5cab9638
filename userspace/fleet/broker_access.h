#pragma once
// How to reach the broker and prove who we are to it, as the daemon's [fleet] settings and the
// CLI's flags both give it: one check of how the settings fit together, one reading of the
// password file, one way to build the MQTT client's options.

#include <string>

#include "common/result.h"
#include "fleet/mqtt_client.h"

namespace cmdgate::fleet {

struct BrokerAccess {
  std::string url;            // mqtt://host[:port] or mqtts://...
  std::string ca_file;        // mqtts only
  std::string cert_file;      // mqtts only, with key_file
  std::string key_file;
  std::string username;
  std::string password_file;  // mode 0600; its first line is the password
  // mqtt:// to a broker that is not on loopback: anyone on the path reads and replays bundles
  // and can cut the host off from new ones, so it is only taken when asked for.
  bool allow_plaintext = false;
};

// How a message names a setting: "ca_file" (the config file) or "--ca-file" (the CLI).
enum class Spelling { kConfig, kFlags };

// The URL parses, TLS files come with mqtts://, a certificate with its key, a password with a
// user, and mqtt:// goes to a loopback broker unless allow_plaintext.
[[nodiscard]] Status check_broker_access(const BrokerAccess& access, Spelling spelling);

// localhost, 127.0.0.0/8 or ::1: a broker on this host, where plaintext crosses no network.
[[nodiscard]] bool is_loopback_host(const std::string& host);

// The password file's first line, without its line ending (\n or \r\n).
[[nodiscard]] Result<std::string> read_password_file(const std::string& path);

// The client's options for `access` (checked first); keepalive stays the default.
[[nodiscard]] Result<MqttOptions> mqtt_options(const BrokerAccess& access, Spelling spelling,
                                               std::string client_id);

}  // namespace cmdgate::fleet
