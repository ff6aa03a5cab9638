#pragma once
// The [fleet] section of cmdgated's configuration (docs/fleet.md): which broker, which groups,
// whose signatures count, where the last-known-good bundles live.

#include <chrono>
#include <cstddef>
#include <string>
#include <vector>

#include "common/result.h"
#include "fleet/broker_access.h"
#include "fleet/bundle.h"

namespace cmdgate::fleet {

struct FleetConfig {
  std::string broker;               // mqtt://host[:port] or mqtts://...; empty: no fleet push
  std::vector<std::string> groups;  // cmdgate/rules/<group> for each, in precedence order
  std::string host_id;              // empty: the host name
  std::string trusted_keys = "/etc/cmdgate/trusted-keys";
  std::string state_dir = "/var/lib/cmdgate/bundles";
  std::string ca_file;    // mqtts only
  std::string cert_file;  // mqtts only, with key_file
  std::string key_file;
  std::string username;
  std::string password_file;  // mode 0600; its first line is the password
  std::chrono::milliseconds keepalive{std::chrono::seconds(30)};
  std::chrono::milliseconds reconnect_min{250};
  std::chrono::milliseconds reconnect_max{std::chrono::seconds(30)};
  size_t max_bundle_bytes = kDefaultMaxBundleBytes;
  bool allow_plaintext = false;  // mqtt:// to a broker not on loopback

  [[nodiscard]] bool enabled() const { return !broker.empty(); }
  [[nodiscard]] BrokerAccess access() const {
    return {broker, ca_file, cert_file, key_file, username, password_file, allow_plaintext};
  }
};

// The checks that span settings (the config file checks each value where it is written):
// a broker needs groups, TLS files need mqtts://, a password needs a user, and so on.
[[nodiscard]] Status validate(const FleetConfig& config);

}  // namespace cmdgate::fleet
