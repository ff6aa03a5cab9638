// cmdgated: the cmdgate enforcement daemon. Runs in the foreground; human-readable log on stderr,
// one JSON line per decision in the decision log. Settings come from --config (TOML), then from
// flags, which win.

#include <spdlog/sinks/stdout_color_sinks.h>
#include <spdlog/spdlog.h>

#include <fmt/ranges.h>
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <string>
#include <utility>

#include "common/version.h"
#include "config/config_file.h"
#include "config/setting_flags.h"
#include "daemon.h"
#include "fleet/bundle_state.h"
#include "fleet/names.h"
#include "probe/pin_dir.h"

namespace cmdgate {
namespace {

// What the command line says besides settings.
struct Invocation {
  std::string config_path;
  bool uninstall = false;
  bool evaluation_only = false;
  std::string reset_fleet_floor;  // a group
};

void add_invocation_flags(CLI::App& app, Invocation& invocation) {
  app.add_option("--config", invocation.config_path, "Daemon configuration (TOML)");
  app.add_flag("--uninstall", invocation.uninstall,
               "Stop enforcing for good: unpin the BPF programs that enforce between daemons, "
               "settle parked processes (on_shutdown) and remove the pinned state; refuses while "
               "a cmdgated runs");
  app.add_option("--reset-fleet-floor", invocation.reset_fleet_floor,
                 "Forget what the fleet group GROUP accepted (its rollback floor and saved "
                 "bundles), so that the next start accepts any validly signed bundle for it; run "
                 "with cmdgated stopped")
      ->option_text("GROUP");
  app.add_flag("--evaluation-only", invocation.evaluation_only,
               "Compile and publish policies without BPF: nothing is enforced (testing)");
}

void log_to_stderr() {
  spdlog::set_default_logger(spdlog::stderr_color_st("cmdgated"));
  spdlog::set_pattern("%Y-%m-%dT%H:%M:%S.%e %^%l%$ cmdgated: %v");
}

// The defaults, then the config file, then the flags.
Result<DaemonConfig> settings(const Invocation& invocation, const SettingFlags& flags) {
  DaemonConfig config;
  if (!invocation.config_path.empty()) {
    auto loaded = load_config(invocation.config_path);
    if (!loaded) {
      return loaded.error();
    }
    config = std::move(*loaded);
  }
  flags.apply(config);
  config.evaluation_only = invocation.evaluation_only;
  return config;
}

int uninstall(const DaemonConfig& config) {
  if (auto s = probe::uninstall(probe::PinDir(config.pin_dir), config.on_shutdown); !s) {
    spdlog::critical("uninstall: {}", s.error().message);
    return 1;
  }
  spdlog::info("uninstall: nothing of cmdgate is attached to the kernel any more");
  return 0;
}

// Logged at warning level: it lowers what the host accepts, which only an operator on the host
// may do.
int reset_fleet_floor(const DaemonConfig& config, const std::string& group) {
  if (auto s = fleet::check_name(group, "group"); !s) {
    spdlog::critical("--reset-fleet-floor: {}", s.error().message);
    return 2;
  }
  const fleet::BundleState state(config.fleet.state_dir, config.fleet.max_bundle_bytes);
  auto removed = state.reset(group);
  if (!removed) {
    spdlog::critical("--reset-fleet-floor {}: {}", group, removed.error().message);
    return 1;
  }
  spdlog::warn(
      "fleet: group {}: rollback floor reset by uid {} (removed: {}); the next start accepts any "
      "validly signed bundle for the group",
      group, ::getuid(),
      removed->empty() ? "nothing, none was saved" : fmt::format("{}", fmt::join(*removed, ", ")));
  return 0;
}

int run_daemon(const DaemonConfig& config) {
  if (config.rule_paths.empty()) {
    spdlog::critical("no rules: pass --rules PATH or set 'rules' in the config file");
    return 2;
  }
  spdlog::set_level(spdlog::level::from_str(config.log_level));
  auto daemon = Daemon::create(config);
  if (!daemon) {
    spdlog::critical("{}", daemon.error().message);
    return 1;
  }
  return (*daemon)->run();
}

int cmdgated(int argc, char** argv) {
  CLI::App app{"cmdgated: decides, for every execve, whether the program may run"};
  Invocation invocation;
  app.set_version_flag("--version", std::string("cmdgated ") + kVersion);
  add_invocation_flags(app, invocation);
  SettingFlags flags(app);
  CLI11_PARSE(app, argc, argv);

  log_to_stderr();
  auto config = settings(invocation, flags);
  if (!config) {
    spdlog::critical("{}", config.error().message);
    return 2;
  }
  if (!invocation.reset_fleet_floor.empty()) {
    return reset_fleet_floor(*config, invocation.reset_fleet_floor);
  }
  return invocation.uninstall ? uninstall(*config) : run_daemon(*config);
}

}  // namespace
}  // namespace cmdgate

int main(int argc, char** argv) {
  return cmdgate::cmdgated(argc, argv);
}
