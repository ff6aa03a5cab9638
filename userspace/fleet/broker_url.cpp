#include "fleet/broker_url.h"

#include <charconv>
#include <optional>

namespace cmdgate::fleet {

Result<BrokerUrl> parse_broker_url(std::string_view url) {
  const auto bad = [&](std::string_view why) {
    return Error::format("broker URL '{}': {} (expected mqtt://host[:port] or mqtts://host[:port])",
                         url, why);
  };
  BrokerUrl out;
  out.text = std::string(url);
  std::string_view rest = url;
  if (rest.starts_with("mqtt://")) {
    rest.remove_prefix(7);
    out.port = 1883;
  } else if (rest.starts_with("mqtts://")) {
    rest.remove_prefix(8);
    out.tls = true;
    out.port = 8883;
  } else {
    return bad("unknown scheme");
  }
  if (rest.ends_with("/")) {
    rest.remove_suffix(1);
  }
  if (rest.find_first_of("/?#@") != std::string_view::npos) {
    return bad("no path, query or credentials allowed");
  }
  std::optional<std::string_view> port;
  if (rest.starts_with("[")) {
    const size_t close = rest.find(']');
    if (close == std::string_view::npos) {
      return bad("unclosed '['");
    }
    out.host = std::string(rest.substr(1, close - 1));
    rest.remove_prefix(close + 1);
    if (!rest.empty()) {
      if (rest.front() != ':') {
        return bad("unexpected text after ']'");
      }
      port = rest.substr(1);
    }
  } else {
    const size_t colon = rest.rfind(':');
    out.host = std::string(rest.substr(0, colon));
    if (colon != std::string_view::npos) {
      port = rest.substr(colon + 1);
    }
  }
  // A ':' left in an unbracketed host is an IPv6 literal written without brackets.
  if (out.host.empty() ||
      (url.find('[') == std::string_view::npos && out.host.find(':') != std::string::npos)) {
    return bad("missing or malformed host");
  }
  if (port) {
    unsigned value = 0;
    const auto [end, ec] = std::from_chars(port->data(), port->data() + port->size(), value);
    if (port->empty() || ec != std::errc() || end != port->data() + port->size() || value == 0 ||
        value > 65535) {
      return bad("port must be 1 to 65535");
    }
    out.port = static_cast<uint16_t>(value);
  }
  return out;
}

}  // namespace cmdgate::fleet
