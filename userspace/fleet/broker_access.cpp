#include "fleet/broker_access.h"

#include <arpa/inet.h>
#include <fmt/format.h>

#include "fleet/broker_url.h"
#include "fleet/secure_file.h"

namespace cmdgate::fleet {
namespace {

constexpr size_t kMaxPasswordFileBytes = 4096;

std::string named(std::string_view setting, Spelling spelling) {
  if (spelling == Spelling::kConfig) {
    return std::string(setting);
  }
  std::string flag = "--" + std::string(setting);
  for (char& c : flag) {
    c = c == '_' ? '-' : c;
  }
  return flag;
}

}  // namespace

bool is_loopback_host(const std::string& host) {
  if (host == "localhost") {
    return true;
  }
  in_addr v4{};
  if (::inet_pton(AF_INET, host.c_str(), &v4) == 1) {
    return (ntohl(v4.s_addr) >> 24) == 127;
  }
  in6_addr v6{};
  return ::inet_pton(AF_INET6, host.c_str(), &v6) == 1 && IN6_IS_ADDR_LOOPBACK(&v6);
}

Status check_broker_access(const BrokerAccess& a, Spelling spelling) {
  auto url = parse_broker_url(a.url);
  if (!url) {
    return url.error();
  }
  const auto n = [spelling](std::string_view s) { return named(s, spelling); };
  if (!url->tls && (!a.ca_file.empty() || !a.cert_file.empty() || !a.key_file.empty())) {
    return Error::format("{}, {} and {} need an mqtts:// broker", n("ca_file"), n("cert_file"),
                         n("key_file"));
  }
  if (a.cert_file.empty() != a.key_file.empty()) {
    return Error::format("{} and {} go together", n("cert_file"), n("key_file"));
  }
  if (!a.password_file.empty() && a.username.empty()) {
    return Error::format("{} needs a {}", n("password_file"), n("username"));
  }
  if (!url->tls && !a.allow_plaintext && !is_loopback_host(url->host)) {
    return Error::format(
        "{}: plaintext MQTT to a broker that is not on this host: anyone on the path could read, "
        "replay or withhold bundles; use mqtts:// (TLS, the broker's certificate verified) or "
        "set {}",
        a.url, spelling == Spelling::kConfig ? "allow_plaintext = true" : "--allow-plaintext");
  }
  return {};
}

Result<std::string> read_password_file(const std::string& path) {
  auto text = read_protected_file(path, Protection::kSecret, kMaxPasswordFileBytes);
  if (!text) {
    return text.error();
  }
  std::string line = text->substr(0, text->find('\n'));
  if (!line.empty() && line.back() == '\r') {
    line.pop_back();
  }
  return line;
}

Result<MqttOptions> mqtt_options(const BrokerAccess& a, Spelling spelling,
                                 std::string client_id) {
  if (auto s = check_broker_access(a, spelling); !s) {
    return s.error();
  }
  MqttOptions o;
  o.broker = *parse_broker_url(a.url);
  o.client_id = std::move(client_id);
  o.ca_file = a.ca_file;
  o.cert_file = a.cert_file;
  o.key_file = a.key_file;
  o.username = a.username;
  if (!a.password_file.empty()) {
    auto pw = read_password_file(a.password_file);
    if (!pw) {
      return pw.error().context(named("password_file", spelling));
    }
    o.password = std::move(*pw);
  }
  return o;
}

}  // namespace cmdgate::fleet
