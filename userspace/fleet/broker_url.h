#pragma once
// The broker address operators write: mqtt://host[:port] (plain, 1883) or mqtts://host[:port]
// (TLS, 8883). IPv6 literals go in brackets: mqtt://[::1]:1883. Credentials never go in the URL
// (they would end up in logs and process listings): see the password_file settings.

#include <cstdint>
#include <string>
#include <string_view>

#include "common/result.h"

namespace cmdgate::fleet {

struct BrokerUrl {
  bool tls = false;
  std::string host;  // without brackets
  uint16_t port = 0;
  std::string text;  // as written, for messages
};

[[nodiscard]] Result<BrokerUrl> parse_broker_url(std::string_view url);

}  // namespace cmdgate::fleet
