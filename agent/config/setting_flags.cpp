#include "config/setting_flags.h"

#include <CLI/CLI.hpp>
#include <string_view>
#include <type_traits>
#include <utility>

#include "common/toml_reader.h"
#include "config/setting_values.h"

namespace cmdgate {
namespace {

template <typename Setting>
using ValueOf = std::remove_cvref_t<std::invoke_result_t<Setting, DaemonConfig&>>;

// Converted to T while `text` lives: a parser may return a view of it.
template <typename T, typename Parse>
T parsed(const std::string& flag, Parse parse, const std::string& text) {
  auto value = parse(text);
  if (!value) {
    throw CLI::ValidationError(flag, value.error().message);
  }
  return T(*value);
}

Result<std::string> any_text(std::string_view text) {
  return std::string(text);
}

template <typename T, size_t N>
auto one_of(const Words<T, N>& words) {
  return [&words](std::string_view text) { return words.read(text); };
}

// A setting the config file writes as an integer.
template <typename Check>
auto decimal(Check check) {
  return [check](std::string_view text) -> decltype(check(int64_t{})) {
    auto number = parse_decimal(text);
    if (!number) {
      return number.error();
    }
    return check(*number);
  };
}

template <typename T>
auto in_fleet(T fleet::FleetConfig::*setting) {
  return [setting](DaemonConfig& c) -> T& { return c.fleet.*setting; };
}

}  // namespace

SettingFlags::SettingFlags(CLI::App& app) : app_(app) {
  add_daemon_flags();
  add_kernel_flags();
  add_approval_flags();
  add_fleet_flags();
}

void SettingFlags::apply(DaemonConfig& c) const {
  for (const auto& change : changes_) {
    change(c);
  }
}

template <typename Parse, typename Setting>
void SettingFlags::add(const std::string& flag, const std::string& help, Parse parse,
                       Setting setting) {
  app_.add_option_function<std::string>(
      flag,
      [this, flag, parse, setting](const std::string& text) {
        keep(setting, parsed<ValueOf<Setting>>(flag, parse, text));
      },
      help);
}

template <typename Parse, typename Setting>
void SettingFlags::add_list(const std::string& flag, const std::string& help, Parse parse,
                            Setting setting) {
  app_.add_option_function<std::vector<std::string>>(
      flag,
      [this, flag, parse, setting](const std::vector<std::string>& texts) {
        std::vector<std::string> values;
        for (const std::string& text : texts) {
          values.push_back(parsed<std::string>(flag, parse, text));
        }
        keep(setting, std::move(values));
      },
      help);
}

template <typename Setting, typename Value>
void SettingFlags::keep(Setting setting, Value value) {
  changes_.push_back([setting, value](DaemonConfig& c) { std::invoke(setting, c) = value; });
}

void SettingFlags::add_daemon_flags() {
  add_list("--rules", "Rules file or directory (repeatable)", any_text, &DaemonConfig::rule_paths);
  add("--audit-log", "Decision log, JSON lines (default /var/log/cmdgate/decisions.jsonl)",
      any_text, &DaemonConfig::audit_log);
  add("--audit-log-max-size",
      "Bytes the decision log grows to before it is rotated (default 104857600: 100 MiB)",
      decimal(parse_audit_log_size),
      [](DaemonConfig& c) -> size_t& { return c.audit_log_rotation.max_bytes; });
  add("--audit-log-files", "Rotated decision logs kept (default 10)",
      decimal(parse_audit_log_files),
      [](DaemonConfig& c) -> size_t& { return c.audit_log_rotation.max_files; });
  add("--last-known-good",
      "Copy of the local rule files last in force, enforced at start when they do not compile "
      "(default /var/lib/cmdgate/local-rules.json)",
      nonempty_text, &DaemonConfig::last_known_good);
  add("--mode", "Override the mode of every rule", one_of(kModeWords),
      &DaemonConfig::mode_override);
  add("--on-shutdown", "What parked processes get when the daemon stops: deny (default) | allow",
      one_of(kOnShutdownWords), &DaemonConfig::on_shutdown);
  add("--log-level", "trace | debug | info (default) | warn | error", one_of(kLogLevelWords),
      &DaemonConfig::log_level);
  add("--metrics-listen", "Serve Prometheus metrics on this host:port (default: off)", any_text,
      &DaemonConfig::metrics_listen);
  add("--metrics-exposure",
      "Addresses --metrics-listen may bind: loopback (default) | network (no authentication)",
      one_of(kMetricsExposureWords), &DaemonConfig::metrics_beyond_loopback);
}

void SettingFlags::add_kernel_flags() {
  add("--ringbuf-size", "Ring buffer bytes, a power of two (default 1 MiB)",
      decimal(parse_ringbuf_size), &DaemonConfig::ringbuf_bytes);
  add("--delivery-failure",
      "An exec that needs the daemon when it cannot be told: kill (default) | hold",
      one_of(kDeliveryFailureWords), &DaemonConfig::delivery_failure);
  add("--pin-dir",
      "bpffs directory for state that outlives the daemon, '' to disable "
      "(default /sys/fs/bpf/cmdgate)",
      any_text, &DaemonConfig::pin_dir);
  add("--enforcement",
      "Hook that refuses denied execs: auto (default: lsm where BPF LSM works) | lsm (fail to "
      "start without it) | tracepoint",
      one_of(kEnforcementWords), &DaemonConfig::enforcement);
}

void SettingFlags::add_approval_flags() {
  add("--unsafe-park",
      "Where the kernel cannot stop a parked process being resumed: deny asks (default) | park "
      "them anyway",
      one_of(kUnsafeParkWords), &DaemonConfig::park_where_unsafe);
  add("--socket", "Approval socket (default /run/cmdgate/cmdgate.sock)", any_text,
      &DaemonConfig::socket_path);
  add("--socket-mode", "Approval socket mode, octal (default 0660)", parse_socket_mode,
      &DaemonConfig::socket_mode);
  add("--local-rules-file",
      "Where 'approve --scope permanent' writes rules; must be one of the rule paths", any_text,
      &DaemonConfig::local_rules_file);
  add("--authenticate",
      "Who must authenticate (PAM service cmdgate) to approve: same-uid (default: an approver of "
      "the requester's uid) | always | never (unsafe where agents run)",
      one_of(kAuthenticateWords), &DaemonConfig::authenticate);
}

void SettingFlags::add_fleet_flags() {
  using fleet::FleetConfig;
  add("--fleet-broker", "MQTT broker pushing rule bundles: mqtt[s]://host[:port] (docs/fleet.md)",
      parse_broker, in_fleet(&FleetConfig::broker));
  add_list("--fleet-group", "Fleet group to follow (repeatable; replaces the config's list)",
           parse_group, in_fleet(&FleetConfig::groups));
  add("--host-id", "This host's name in the fleet (default: the host name)", parse_host_id,
      in_fleet(&FleetConfig::host_id));
  add("--fleet-state-dir", "Last-known-good bundles (default /var/lib/cmdgate/bundles)",
      nonempty_text, in_fleet(&FleetConfig::state_dir));
  add("--fleet-allow-plaintext",
      "true: accept mqtt:// (no TLS) to a broker that is not on this host (default false)",
      one_of(kBooleanWords), in_fleet(&FleetConfig::allow_plaintext));
  add("--trusted-keys",
      "Directory of *.pub bundle signing keys (default /etc/cmdgate/trusted-keys)", nonempty_text,
      in_fleet(&FleetConfig::trusted_keys));
}

}  // namespace cmdgate
