#include "config/config_file.h"

#include <cstdlib>
#include <set>

#include <toml++/toml.h>

#include "common/regular_file.h"
#include "config/setting_values.h"
#include "fleet/broker_url.h"
#include "fleet/names.h"
#include "rules/duration.h"

namespace cmdgate {
namespace {

// Far more than every setting written out with comments.
constexpr size_t kMaxConfigBytes = 1u << 20;

std::string where(std::string_view origin, const toml::source_region& src) {
  return fmt::format("{}:{}:{}", origin, src.begin.line, src.begin.column);
}

class Reader {
 public:
  explicit Reader(std::string_view origin) : origin_(origin) {}

  Error error(const toml::node& n, std::string_view key, std::string_view what) const {
    return Error::format("{}: key '{}': {}", where(origin_, n.source()), key, what);
  }

  Status check_keys(const toml::table& t, std::string_view section,
                    const std::set<std::string_view>& known) const {
    for (const auto& [k, v] : t) {
      if (!known.contains(k.str())) {
        const std::string full = section.empty() ? std::string(k.str())
                                                 : fmt::format("{}.{}", section, k.str());
        return Error::format("{}: unknown setting '{}'", where(origin_, k.source()), full);
      }
    }
    return {};
  }

  Result<std::string> string(const toml::node& n, std::string_view key) const {
    if (auto s = n.value<std::string>()) {
      return *s;
    }
    return error(n, key, "expected a string");
  }

  template <typename T, size_t N>
  Result<T> pick(const toml::node& n, std::string_view key, const Words<T, N>& words) const {
    auto s = string(n, key);
    if (!s) {
      return s.error();
    }
    if (auto v = words.parse(*s)) {
      return *v;
    }
    return error(n, key, fmt::format("'{}' is not one of {}", *s, words.list()));
  }

  Result<std::chrono::milliseconds> duration(const toml::node& n, std::string_view key) const {
    auto s = string(n, key);
    if (!s) {
      return s.error();
    }
    auto d = rules::parse_duration(*s);
    if (!d) {
      return error(n, key, d.error().message);
    }
    return *d;
  }

  Result<std::vector<std::string>> strings(const toml::node& n, std::string_view key) const {
    std::vector<std::string> out;
    if (n.is_string()) {
      out.push_back(*n.value<std::string>());
      return out;
    }
    const toml::array* arr = n.as_array();
    if (arr == nullptr || arr->empty()) {
      return error(n, key, "expected a string or a non-empty array of strings");
    }
    for (const auto& e : *arr) {
      auto s = string(e, key);
      if (!s) {
        return s.error();
      }
      out.push_back(std::move(*s));
    }
    return out;
  }

 private:
  std::string_view origin_;
};

#define CG_TRY(var, expr)        \
  auto var = (expr);             \
  if (!var) {                    \
    return var.error();          \
  }

Status apply_kernel(const Reader& r, const toml::table& t, DaemonConfig& c) {
  if (auto s = r.check_keys(
          t, "kernel",
          {"ringbuf_size", "delivery_failure", "daemon_stale_after", "pin_dir", "enforcement"});
      !s) {
    return s;
  }
  if (const toml::node* n = t.get("ringbuf_size")) {
    auto v = n->value<int64_t>();
    if (!v || *v < 0 || !valid_ringbuf_size(static_cast<uint64_t>(*v))) {
      return r.error(*n, "kernel.ringbuf_size", "expected a power of two from 4096 to 2^30");
    }
    c.ringbuf_bytes = static_cast<uint32_t>(*v);
  }
  if (const toml::node* n = t.get("delivery_failure")) {
    CG_TRY(v, r.pick(*n, "kernel.delivery_failure", kDeliveryFailureWords));
    c.delivery_failure = *v;
  }
  if (const toml::node* n = t.get("daemon_stale_after")) {
    CG_TRY(v, r.duration(*n, "kernel.daemon_stale_after"));
    c.daemon_stale_after = *v;
  }
  if (const toml::node* n = t.get("pin_dir")) {
    CG_TRY(v, r.string(*n, "kernel.pin_dir"));
    c.pin_dir = *v;
  }
  if (const toml::node* n = t.get("enforcement")) {
    CG_TRY(v, r.pick(*n, "kernel.enforcement", kEnforcementWords));
    c.enforcement = *v;
  }
  return {};
}

Status apply_approval(const Reader& r, const toml::table& t, DaemonConfig& c) {
  if (auto s = r.check_keys(t, "approval",
                            {"socket", "approver_group", "socket_mode", "when_no_approver",
                             "local_rules_file", "unsafe_park", "notify", "notify_timeout",
                             "authenticate"});
      !s) {
    return s;
  }
  if (const toml::node* n = t.get("socket")) {
    CG_TRY(v, r.string(*n, "approval.socket"));
    c.socket_path = *v;
  }
  if (const toml::node* n = t.get("approver_group")) {
    CG_TRY(v, r.string(*n, "approval.approver_group"));
    c.approver_group = *v;
  }
  if (const toml::node* n = t.get("socket_mode")) {
    CG_TRY(v, r.string(*n, "approval.socket_mode"));
    const auto mode = parse_socket_mode(*v);
    if (!mode) {
      return r.error(*n, "approval.socket_mode", "expected an octal mode such as \"0660\"");
    }
    c.socket_mode = *mode;
  }
  if (const toml::node* n = t.get("when_no_approver")) {
    CG_TRY(v, r.pick(*n, "approval.when_no_approver", kWhenNoApproverWords));
    c.fallback_when_no_approver = *v;
  }
  if (const toml::node* n = t.get("local_rules_file")) {
    CG_TRY(v, r.string(*n, "approval.local_rules_file"));
    c.local_rules_file = *v;
  }
  if (const toml::node* n = t.get("notify")) {
    // Programs as argv lists: no shell, so nothing in a request can become a command.
    const toml::array* programs = n->as_array();
    if (programs == nullptr) {
      return r.error(*n, "approval.notify",
                     "expected an array of commands, each an array of strings");
    }
    c.notify.programs.clear();
    for (const auto& program : *programs) {
      CG_TRY(argv, r.strings(program, "approval.notify"));
      if (!program.is_array() || argv->front().empty() || argv->front().front() != '/') {
        return r.error(program, "approval.notify",
                       "each command is an array of strings whose first is an absolute path");
      }
      c.notify.programs.push_back(std::move(*argv));
    }
  }
  if (const toml::node* n = t.get("notify_timeout")) {
    CG_TRY(v, r.duration(*n, "approval.notify_timeout"));
    c.notify.timeout = *v;
  }
  if (const toml::node* n = t.get("unsafe_park")) {
    CG_TRY(v, r.pick(*n, "approval.unsafe_park", kUnsafeParkWords));
    c.park_where_unsafe = *v;
  }
  if (const toml::node* n = t.get("authenticate")) {
    CG_TRY(v, r.string(*n, "approval.authenticate"));
    auto when = parse_authenticate_when(*v);
    if (!when) {
      return r.error(*n, "approval.authenticate",
                     fmt::format("'{}' is not one of {}", *v, authenticate_when_names()));
    }
    c.authenticate = *when;
  }
  return {};
}

// Each value is checked where it is written; fleet::validate checks how they fit together once
// the flags have been applied too.
Status apply_fleet(const Reader& r, const toml::table& t, DaemonConfig& c) {
  fleet::FleetConfig& f = c.fleet;
  if (auto s = r.check_keys(t, "fleet",
                            {"broker", "groups", "host_id", "trusted_keys", "state_dir", "ca_file",
                             "cert_file", "key_file", "username", "password_file", "keepalive",
                             "reconnect_min", "reconnect_max", "max_bundle_size"});
      !s) {
    return s;
  }
  if (const toml::node* n = t.get("broker")) {
    CG_TRY(v, r.string(*n, "fleet.broker"));
    if (auto url = fleet::parse_broker_url(*v); !url) {
      return r.error(*n, "fleet.broker", url.error().message);
    }
    f.broker = *v;
  }
  if (const toml::node* n = t.get("groups")) {
    CG_TRY(v, r.strings(*n, "fleet.groups"));
    for (const auto& g : *v) {
      if (auto ok = fleet::check_name(g, "group"); !ok) {
        return r.error(*n, "fleet.groups", ok.error().message);
      }
    }
    f.groups = std::move(*v);
  }
  if (const toml::node* n = t.get("host_id")) {
    CG_TRY(v, r.string(*n, "fleet.host_id"));
    if (auto ok = fleet::check_name(*v, "host id"); !ok) {
      return r.error(*n, "fleet.host_id", ok.error().message);
    }
    f.host_id = *v;
  }
  const std::pair<const char*, std::string*> paths[] = {
      {"trusted_keys", &f.trusted_keys},  {"state_dir", &f.state_dir}, {"ca_file", &f.ca_file},
      {"cert_file", &f.cert_file},        {"key_file", &f.key_file},   {"username", &f.username},
      {"password_file", &f.password_file}};
  for (const auto& [key, out] : paths) {
    if (const toml::node* n = t.get(key)) {
      const std::string full = fmt::format("fleet.{}", key);
      CG_TRY(v, r.string(*n, full));
      if (v->empty()) {
        return r.error(*n, full, "must not be empty");
      }
      *out = *v;
    }
  }
  const std::pair<const char*, std::chrono::milliseconds*> durations[] = {
      {"keepalive", &f.keepalive},
      {"reconnect_min", &f.reconnect_min},
      {"reconnect_max", &f.reconnect_max}};
  for (const auto& [key, out] : durations) {
    if (const toml::node* n = t.get(key)) {
      CG_TRY(v, r.duration(*n, fmt::format("fleet.{}", key)));
      *out = *v;
    }
  }
  if (const toml::node* n = t.get("max_bundle_size")) {
    auto v = n->value<int64_t>();
    if (!v || *v < 1024 || *v > (int64_t{64} << 20)) {
      return r.error(*n, "fleet.max_bundle_size", "expected a number of bytes from 1024 to 64 MiB");
    }
    f.max_bundle_bytes = static_cast<size_t>(*v);
  }
  return {};
}

}  // namespace

Result<DaemonConfig> parse_config(std::string_view text, std::string_view origin,
                                  DaemonConfig c) {
  toml::parse_result parsed = toml::parse(text, origin);
  if (!parsed) {
    const auto& e = parsed.error();
    return Error::format("{}: {}", where(origin, e.source()), e.description());
  }
  const toml::table& t = parsed.table();
  Reader r(origin);
  if (auto s = r.check_keys(t, "", {"rules", "mode", "audit_log", "log_level", "on_shutdown",
                                    "kernel", "approval", "metrics", "fleet"});
      !s) {
    return s.error();
  }
  if (const toml::node* n = t.get("rules")) {
    CG_TRY(v, r.strings(*n, "rules"));
    c.rule_paths = std::move(*v);
  }
  if (const toml::node* n = t.get("mode")) {
    CG_TRY(v, r.pick(*n, "mode", kModeWords));
    c.mode_override = *v;
  }
  if (const toml::node* n = t.get("audit_log")) {
    CG_TRY(v, r.string(*n, "audit_log"));
    c.audit_log = *v;
  }
  if (const toml::node* n = t.get("log_level")) {
    CG_TRY(v, r.pick(*n, "log_level", kLogLevelWords));
    c.log_level = std::string(*v);
  }
  if (const toml::node* n = t.get("on_shutdown")) {
    CG_TRY(v, r.pick(*n, "on_shutdown", kOnShutdownWords));
    c.on_shutdown = *v;
  }
  if (const toml::node* n = t.get("kernel")) {
    const toml::table* k = n->as_table();
    if (k == nullptr) {
      return r.error(*n, "kernel", "expected a table");
    }
    if (auto s = apply_kernel(r, *k, c); !s) {
      return s.error();
    }
  }
  if (const toml::node* n = t.get("metrics")) {
    const toml::table* m = n->as_table();
    if (m == nullptr) {
      return r.error(*n, "metrics", "expected a table");
    }
    if (auto s = r.check_keys(*m, "metrics", {"listen"}); !s) {
      return s.error();
    }
    if (const toml::node* l = m->get("listen")) {
      CG_TRY(v, r.string(*l, "metrics.listen"));
      c.metrics_listen = *v;
    }
  }
  if (const toml::node* n = t.get("approval")) {
    const toml::table* a = n->as_table();
    if (a == nullptr) {
      return r.error(*n, "approval", "expected a table");
    }
    if (auto s = apply_approval(r, *a, c); !s) {
      return s.error();
    }
  }
  if (const toml::node* n = t.get("fleet")) {
    const toml::table* f = n->as_table();
    if (f == nullptr) {
      return r.error(*n, "fleet", "expected a table");
    }
    if (auto s = apply_fleet(r, *f, c); !s) {
      return s.error();
    }
  }
  return c;
}

Result<DaemonConfig> load_config(const std::string& path, DaemonConfig base) {
  auto text = read_regular_file(path, kMaxConfigBytes);
  if (!text) {
    return text.error().context("cannot read config");
  }
  return parse_config(*text, path, std::move(base));
}

}  // namespace cmdgate
