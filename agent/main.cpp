// cmdgated: the cmdgate enforcement daemon. Runs in the foreground; human-readable log on stderr,
// one JSON line per decision in the decision log. Settings come from --config (TOML), then from
// flags, which win.

#include <CLI/CLI.hpp>
#include <spdlog/sinks/stdout_color_sinks.h>
#include <spdlog/spdlog.h>

#include "config/config_file.h"
#include "config/setting_values.h"
#include "daemon.h"
#include "probe/pin_dir.h"

namespace {

// A flag's check by the same table the config file reads the setting with.
template <typename T, size_t N>
std::function<std::string(const std::string&)> one_of(const cmdgate::Words<T, N>& words) {
  return [&words](const std::string& s) {
    auto value = words.read(s);
    return value ? std::string() : value.error().message;
  };
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"cmdgated: decides, for every execve, whether the program may run"};
  std::string config_path;
  std::vector<std::string> rule_paths;
  std::string audit_log, mode, delivery_failure, on_shutdown, pin_dir, log_level, enforcement;
  uint32_t ringbuf_bytes = 0;
  app.add_option("--config", config_path, "Daemon configuration (TOML)");
  app.add_option("--rules", rule_paths, "Rules file or directory (repeatable)");
  app.add_option("--audit-log", audit_log,
                 "Decision log, JSON lines (default /var/log/cmdgate/decisions.jsonl)");
  app.add_option("--mode", mode, "Override the mode of every rule")
      ->check(one_of(cmdgate::kModeWords));
  app.add_option("--ringbuf-size", ringbuf_bytes,
                 "Ring buffer bytes, a power of two (default 1 MiB)")
      ->check([](const std::string& s) {
        auto bytes = cmdgate::parse_decimal(s);
        auto size = bytes ? cmdgate::parse_ringbuf_size(*bytes)
                          : cmdgate::Result<uint32_t>(bytes.error());
        return size ? std::string() : size.error().message;
      });
  app.add_option("--delivery-failure", delivery_failure,
                 "An exec that needs the daemon when it cannot be told: kill (default) | hold")
      ->check(one_of(cmdgate::kDeliveryFailureWords));
  app.add_option("--on-shutdown", on_shutdown,
                 "What parked processes get when the daemon stops: deny (default) | allow")
      ->check(one_of(cmdgate::kOnShutdownWords));
  app.add_option("--pin-dir", pin_dir,
                 "bpffs directory for state that outlives the daemon, '' to disable "
                 "(default /sys/fs/bpf/cmdgate)");
  app.add_option("--enforcement", enforcement,
                 "Hook that refuses denied execs: auto (default: lsm where BPF LSM works) | lsm "
                 "(fail to start without it) | tracepoint")
      ->check(one_of(cmdgate::kEnforcementWords));
  app.add_option("--log-level", log_level, "trace | debug | info (default) | warn | error")
      ->check(one_of(cmdgate::kLogLevelWords));
  std::string unsafe_park;
  app.add_option("--unsafe-park", unsafe_park,
                 "Where the kernel cannot stop a parked process being resumed: deny asks "
                 "(default) | park them anyway")
      ->check(one_of(cmdgate::kUnsafeParkWords));
  std::string socket_path, socket_mode;
  app.add_option("--socket", socket_path,
                 "Approval socket (default /run/cmdgate/cmdgate.sock)");
  app.add_option("--socket-mode", socket_mode, "Approval socket mode, octal (default 0660)")
      ->check([](const std::string& s) {
        auto parsed = cmdgate::parse_socket_mode(s);
        return parsed ? std::string() : parsed.error().message;
      });
  std::string metrics_listen;
  app.add_option("--metrics-listen", metrics_listen,
                 "Serve Prometheus metrics on this loopback host:port (default: off)");
  std::string local_rules_file;
  app.add_option("--local-rules-file", local_rules_file,
                 "Where 'approve --scope permanent' writes rules; must be one of the rule paths");
  std::string authenticate;
  app.add_option("--authenticate", authenticate,
                 "Who must authenticate (PAM service cmdgate) to approve: same-uid (default: an "
                 "approver of the requester's uid) | always | never (unsafe where agents run)")
      ->check(one_of(cmdgate::kAuthenticateWords));
  std::string fleet_broker, fleet_state_dir, host_id, trusted_keys;
  std::vector<std::string> fleet_groups;
  app.add_option("--fleet-broker", fleet_broker,
                 "MQTT broker pushing rule bundles: mqtt[s]://host[:port] (docs/fleet.md)");
  app.add_option("--fleet-group", fleet_groups,
                 "Fleet group to follow (repeatable; replaces the config's list)");
  app.add_option("--host-id", host_id, "This host's name in the fleet (default: the host name)");
  app.add_option("--fleet-state-dir", fleet_state_dir,
                 "Last-known-good bundles (default /var/lib/cmdgate/bundles)");
  app.add_option("--trusted-keys", trusted_keys,
                 "Directory of *.pub bundle signing keys (default /etc/cmdgate/trusted-keys)");
  bool uninstall = false;
  app.add_flag("--uninstall", uninstall,
               "Stop enforcing for good: unpin the BPF programs that enforce between daemons, "
               "settle parked processes (on_shutdown) and remove the pinned state; refuses while "
               "a cmdgated runs");
  bool evaluation_only = false;
  app.add_flag("--evaluation-only", evaluation_only,
               "Compile and publish policies without BPF: nothing is enforced (testing)");
  CLI11_PARSE(app, argc, argv);

  spdlog::set_default_logger(spdlog::stderr_color_st("cmdgated"));
  spdlog::set_pattern("%Y-%m-%dT%H:%M:%S.%e %^%l%$ cmdgated: %v");

  cmdgate::DaemonConfig config;
  if (!config_path.empty()) {
    auto loaded = cmdgate::load_config(config_path);
    if (!loaded) {
      spdlog::critical("{}", loaded.error().message);
      return 2;
    }
    config = std::move(*loaded);
  }
  if (!rule_paths.empty()) {
    config.rule_paths = rule_paths;
  }
  if (app.count("--audit-log")) config.audit_log = audit_log;
  if (app.count("--mode")) config.mode_override = *cmdgate::kModeWords.parse(mode);
  if (app.count("--ringbuf-size")) config.ringbuf_bytes = ringbuf_bytes;
  if (app.count("--delivery-failure")) {
    config.delivery_failure = *cmdgate::kDeliveryFailureWords.parse(delivery_failure);
  }
  if (app.count("--on-shutdown")) {
    config.on_shutdown = *cmdgate::kOnShutdownWords.parse(on_shutdown);
  }
  if (app.count("--pin-dir")) config.pin_dir = pin_dir;
  if (app.count("--enforcement")) {
    config.enforcement = *cmdgate::kEnforcementWords.parse(enforcement);
  }
  if (app.count("--log-level")) config.log_level = log_level;
  config.evaluation_only = evaluation_only;
  if (app.count("--socket")) config.socket_path = socket_path;
  if (app.count("--unsafe-park")) {
    config.park_where_unsafe = *cmdgate::kUnsafeParkWords.parse(unsafe_park);
  }
  if (app.count("--local-rules-file")) config.local_rules_file = local_rules_file;
  if (app.count("--authenticate")) {
    config.authenticate = *cmdgate::kAuthenticateWords.parse(authenticate);
  }
  if (app.count("--metrics-listen")) config.metrics_listen = metrics_listen;
  if (app.count("--socket-mode")) config.socket_mode = *cmdgate::parse_socket_mode(socket_mode);
  if (app.count("--fleet-broker")) config.fleet.broker = fleet_broker;
  if (!fleet_groups.empty()) config.fleet.groups = fleet_groups;
  if (app.count("--host-id")) config.fleet.host_id = host_id;
  if (app.count("--fleet-state-dir")) config.fleet.state_dir = fleet_state_dir;
  if (app.count("--trusted-keys")) config.fleet.trusted_keys = trusted_keys;
  if (uninstall) {
    if (auto s = cmdgate::probe::uninstall(cmdgate::probe::PinDir(config.pin_dir),
                                           config.on_shutdown);
        !s) {
      spdlog::critical("uninstall: {}", s.error().message);
      return 1;
    }
    spdlog::info("uninstall: nothing of cmdgate is attached to the kernel any more");
    return 0;
  }
  if (config.rule_paths.empty()) {
    spdlog::critical("no rules: pass --rules PATH or set 'rules' in the config file");
    return 2;
  }
  spdlog::set_level(spdlog::level::from_str(config.log_level));

  auto daemon = cmdgate::Daemon::create(config);
  if (!daemon) {
    spdlog::critical("{}", daemon.error().message);
    return 1;
  }
  return (*daemon)->run();
}
