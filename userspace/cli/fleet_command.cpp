// cmdgate fleet status --broker URL [--group G] [--json]: every host's applied bundle version
// from its retained status, against the newest version of its group; lists the stragglers.
// Exit status (docs/cli.md): 0 every host online and current, 4 some host behind or offline,
// 3 the broker cannot be reached, 1 another failure.

#include <cstdio>
#include <ctime>
#include <nlohmann/json.hpp>

#include "cli/broker_connection.h"
#include "cli/commands.h"
#include "common/duration.h"
#include "fleet/bundle_codec.h"
#include "fleet/fleet_report.h"
#include "fleet/names.h"

namespace cmdgate::cli {
namespace {

using nlohmann::json;

constexpr int kUnreachable = 3;
constexpr int kStragglers = 4;

struct StatusOptions {
  BrokerOptions broker;
  std::string group;
  std::string trusted;
  std::string settle = "300ms";
  bool json = false;
};

std::string age(uint64_t unix_ms) {
  const uint64_t now = fleet::now_unix_ms();
  if (unix_ms == 0 || unix_ms > now) {
    return "-";
  }
  const uint64_t s = (now - unix_ms) / 1000;
  if (s < 120) {
    return fmt::format("{}s ago", s);
  }
  if (s < 7200) {
    return fmt::format("{}m ago", s / 60);
  }
  return fmt::format("{}h ago", s / 3600);
}

int run_status(const StatusOptions& o) {
  const auto fail = [](const std::string& why) {
    std::fprintf(stderr, "fleet status: %s\n", why.c_str());
    return 1;
  };
  auto settle = parse_duration(o.settle);
  if (!settle) {
    return fail(fmt::format("--settle: {}", settle.error().message));
  }
  std::optional<std::string> only;
  if (!o.group.empty()) {
    if (auto s = fleet::check_name(o.group, "group"); !s) {
      return fail(s.error().message);
    }
    only = o.group;
  }
  std::optional<fleet::TrustedKeys> keys;
  if (!o.trusted.empty()) {
    auto k = fleet::TrustedKeys::load_dir(o.trusted);
    if (!k) {
      return fail(k.error().message);
    }
    keys = std::move(*k);
  }
  auto conn = BrokerConnection::open(o.broker);
  if (!conn) {
    (void)fail(conn.error().message);
    return kUnreachable;
  }
  const std::string rules_filter = only ? fleet::rules_topic(*only) : fleet::rules_topic("+");
  if (auto s = (*conn)->subscribe({fleet::status_topic("+"), rules_filter}); !s) {
    return fail(s.error().message);
  }
  std::vector<fleet::HostStatus> hosts;
  std::map<std::string, uint64_t> pushed;
  std::vector<std::string> warnings;
  for (auto& m : (*conn)->collect(*settle)) {
    if (m.payload.empty()) {
      continue;  // a cleared retained message
    }
    if (m.topic.starts_with(fleet::kStatusTopicPrefix)) {
      auto s = fleet::decode_status(m.payload, m.topic);
      if (!s) {
        warnings.push_back(s.error().message);
        continue;
      }
      hosts.push_back(std::move(*s));
      continue;
    }
    const std::string group = m.topic.substr(fleet::kRulesTopicPrefix.size());
    Result<fleet::Bundle> b = Error{""};
    if (keys) {
      auto v = fleet::verify_bundle(m.payload, *keys, m.payload.size());
      b = v ? Result<fleet::Bundle>(v->bundle) : Result<fleet::Bundle>(v.error());
    } else {
      auto env = fleet::decode_envelope(m.payload, m.payload.size());
      b = env ? fleet::decode_payload(env->payload) : Result<fleet::Bundle>(env.error());
    }
    if (!b) {
      warnings.push_back(
          fmt::format("{}: retained bundle unusable: {}", m.topic, b.error().message));
      continue;
    }
    pushed[group] = b->version;
  }
  const fleet::FleetReport report = fleet::build_report(hosts, pushed, only);

  if (o.json) {
    json groups = json::array();
    for (const auto& g : report.groups) {
      groups.push_back({{"group", g.group},
                        {"pushed", g.pushed},
                        {"newest", g.newest},
                        {"hosts", g.hosts},
                        {"current", g.current},
                        {"behind", g.behind},
                        {"offline", g.offline}});
    }
    json rows = json::array();
    for (const auto& r : report.rows) {
      rows.push_back({{"host", r.host},
                      {"group", r.group},
                      {"online", r.online},
                      {"version", r.version},
                      {"key_id", r.key_id},
                      {"behind", r.behind},
                      {"rules", r.rules},
                      {"rejected", r.rejected},
                      {"last_error", r.last_error},
                      {"floor", r.floor},
                      {"floor_unknown", r.floor_unknown},
                      {"saved_bundle_error", r.saved_bundle_error},
                      {"timestamp_unix_ms", r.timestamp_unix_ms}});
    }
    json out = {{"groups", std::move(groups)},
                {"hosts", std::move(rows)},
                {"all_current", report.all_current()},
                {"warnings", warnings}};
    std::puts(out.dump(-1, ' ', false, json::error_handler_t::replace).c_str());
  } else {
    for (const auto& w : warnings) {
      std::fprintf(stderr, "warning: %s\n", w.c_str());
    }
    for (const auto& g : report.groups) {
      std::printf(
          "group %s: newest version %llu (retained bundle: %s); %zu host(s): %zu current, "
          "%zu behind, %zu offline\n",
          g.group.c_str(), static_cast<unsigned long long>(g.newest),
          g.pushed ? std::to_string(g.pushed).c_str() : "none", g.hosts, g.current, g.behind,
          g.offline);
    }
    if (!report.rows.empty()) {
      std::printf("\n%-24s %-16s %-8s %-8s %-7s %-10s %s\n", "HOST", "GROUP", "VERSION", "STATE",
                  "RULES", "UPDATED", "LAST ERROR");
    }
    for (const auto& r : report.rows) {
      const std::string version = fmt::format("{}{}", r.version, r.behind ? " (behind)" : "");
      std::printf("%-24s %-16s %-8s %-8s %-7llu %-10s %s\n", r.host.c_str(), r.group.c_str(),
                  version.c_str(), r.online ? "online" : "OFFLINE",
                  static_cast<unsigned long long>(r.rules), age(r.timestamp_unix_ms).c_str(),
                  r.last_error.empty() ? "-" : r.last_error.c_str());
      if (r.floor_unknown) {
        std::printf("%-24s %-16s rollback floor unknown: every bundle is refused until "
                    "cmdgated --reset-fleet-floor %s\n",
                    "", "", r.group.c_str());
      }
      if (!r.saved_bundle_error.empty()) {
        std::printf("%-24s %-16s saved bundle not used: %s\n", "", "",
                    r.saved_bundle_error.c_str());
      }
    }
    if (report.groups.empty()) {
      std::puts("no hosts and no bundles on this broker");
    } else if (report.all_current()) {
      std::puts("\nall hosts online and on the newest version");
    } else {
      std::puts("\nstragglers: hosts marked (behind) or OFFLINE above");
    }
  }
  return report.all_current() ? 0 : kStragglers;
}

}  // namespace

Runner add_fleet(CLI::App& app) {
  auto* fleet = app.add_subcommand("fleet", "The fleet seen through the broker");
  fleet->require_subcommand(1);
  auto* cmd = fleet->add_subcommand(
      "status", "Hosts, their applied bundle versions, and the stragglers (exit 4 if any)");
  auto o = std::make_shared<StatusOptions>();
  add_broker_options(cmd, o->broker);
  cmd->add_option("--group,-g", o->group, "Only this group");
  cmd->add_option("--trusted", o->trusted,
                  "Count a retained bundle only if it verifies against these *.pub keys");
  cmd->add_option("--settle", o->settle,
                  "Stop listening after this long without a message (default 300ms)");
  cmd->add_flag("--json", o->json, "Machine-readable output");
  return [o]() { return run_status(*o); };
}

}  // namespace cmdgate::cli
