// Time from `cmdgate push` to "applied" on many agents: one real mosquitto on loopback, N
// cmdgated --evaluation-only agents (the real daemon without BPF), real signatures.
//
// Per round: sign bundle version r (not timed), note the wall clock, run `cmdgate push`, and
// wait until every agent's retained status reports version r. An agent's latency is its own
// applied_unix_ms (taken after the policy was compiled and published) minus the push start; all
// processes share one clock. Also reported: when the observer saw the last status (applied plus
// the status round trip through the broker) and how long the push command itself took.
//
// Usage: cmdgate_fleet_push_bench --cmdgated PATH --cmdgate PATH [--agents N] [--rounds R]
//                                 [--rules K] [--json FILE]

#include <arpa/inet.h>
#include <fcntl.h>
#include <fmt/format.h>
#include <netinet/in.h>
#include <pwd.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "fleet/mqtt_client.h"
#include "fleet/status.h"
#include "processes.h"
#include "sample_stats.h"

namespace {

using Clock = std::chrono::steady_clock;
using nlohmann::json;
namespace fs = std::filesystem;
using cmdgate::bench::summarize;
using cmdgate::test::free_port;
using cmdgate::test::spawn;

int run(const std::vector<std::string>& argv, const std::string& log) {
  const pid_t pid = spawn(argv, log);
  int status = 0;
  ::waitpid(pid, &status, 0);
  return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

void stop(pid_t pid) {
  ::kill(pid, SIGTERM);
  for (int i = 0; i < 500; ++i) {
    if (::waitpid(pid, nullptr, WNOHANG) == pid) {
      return;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  ::kill(pid, SIGKILL);
  ::waitpid(pid, nullptr, 0);
}

void write_file(const std::string& path, const std::string& text) {
  std::ofstream(path, std::ios::trunc) << text;
}

// K rules of the kinds a fleet policy has: exact paths, path globs, argument patterns.
std::string rules_toml(size_t k, uint64_t version) {
  std::string t = "default_action = \"allow\"\n";
  for (size_t i = 0; i < k; ++i) {
    t += fmt::format("[[rule]]\nid = \"r{}-v{}\"\naction = \"deny\"\n", i, version);
    switch (i % 3) {
      case 0:
        t += fmt::format("path = \"/opt/vendor{}/bin/tool\"\n", i);
        break;
      case 1:
        t += fmt::format("path = \"/srv/app{}/**\"\n", i);
        break;
      default:
        t += fmt::format("path = \"/usr/bin/curl\"\nargs = '^--upload-file-{}$'\n", i);
        break;
    }
  }
  return t;
}

// Follows cmdgate/status/+ and remembers, per host, the newest status and when it arrived.
class Observer {
 public:
  explicit Observer(uint16_t port) {
    cmdgate::fleet::MqttOptions o;
    o.broker = {false, "127.0.0.1", port, fmt::format("mqtt://127.0.0.1:{}", port)};
    o.client_id = fmt::format("cmdgate-bench-{}", ::getpid());
    auto c = cmdgate::fleet::MqttClient::create(
        o, {.on_connect = [this](int rc) { connack_ = rc; },
            .on_disconnect = nullptr,
            .on_message =
                [this](const cmdgate::fleet::MqttMessage& m) {
                  auto s = cmdgate::fleet::decode_status(m.payload, m.topic);
                  if (s) {
                    const std::string host = s->host;  // before *s is moved from
                    seen_[host] = {std::move(*s), cmdgate::fleet::now_unix_ms()};
                  }
                },
            .on_publish = nullptr,
            .on_subscribe = nullptr});
    client_ = std::make_unique<cmdgate::fleet::MqttClient>(std::move(*c));
    (void)client_->connect_async();
    pump_until([&] { return connack_ >= 0; }, std::chrono::seconds(10));
    (void)client_->subscribe("cmdgate/status/+");
  }

  bool pump_until(const std::function<bool()>& done, std::chrono::milliseconds timeout) {
    const auto deadline = Clock::now() + timeout;
    while (!done()) {
      if (Clock::now() > deadline) {
        return false;
      }
      (void)client_->loop(std::chrono::milliseconds(5));
    }
    return true;
  }

  size_t count(const std::function<bool(const cmdgate::fleet::HostStatus&)>& pred) const {
    size_t n = 0;
    for (const auto& [h, s] : seen_) {
      n += pred(s.status) ? 1 : 0;
    }
    return n;
  }

  struct Seen {
    cmdgate::fleet::HostStatus status;
    uint64_t arrived_unix_ms = 0;
  };
  const std::map<std::string, Seen>& seen() const { return seen_; }

 private:
  std::unique_ptr<cmdgate::fleet::MqttClient> client_;
  int connack_ = -1;
  std::map<std::string, Seen> seen_;
};

uint64_t applied_version(const cmdgate::fleet::HostStatus& s) {
  return s.online && !s.groups.empty() ? s.groups[0].version : 0;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"Fleet push latency: cmdgate push to applied on N agents"};
  std::string cmdgated = CMDGATED_PATH, cmdgate = CMDGATE_CLI_PATH, json_out;
  size_t agents = 100, rounds = 5, rules = 100;
  app.add_option("--cmdgated", cmdgated, "cmdgated binary");
  app.add_option("--cmdgate", cmdgate, "cmdgate binary");
  app.add_option("--agents", agents, "Agents (default 100)");
  app.add_option("--rounds", rounds, "Pushes (default 5)");
  app.add_option("--rules", rules, "Rules per bundle (default 100)");
  app.add_option("--json", json_out, "Also write the results here");
  CLI11_PARSE(app, argc, argv);

  char tmpl[] = "/tmp/cmdgate-fleet-bench.XXXXXX";
  const std::string dir = ::mkdtemp(tmpl);
  ::chmod(dir.c_str(), 0755);
  if (::geteuid() == 0) {
    if (const passwd* pw = ::getpwnam("mosquitto")) {
      [[maybe_unused]] int rc = ::chown(dir.c_str(), pw->pw_uid, pw->pw_gid);
    }
  }
  const std::string log = dir + "/bench.log";
  const uint16_t port = free_port();
  const std::string url = fmt::format("mqtt://127.0.0.1:{}", port);
  write_file(dir + "/mosquitto.conf",
             fmt::format("listener {} 127.0.0.1\nallow_anonymous true\npersistence false\n"
                         "max_queued_messages 10000\nset_tcp_nodelay true\n",
                         port));
  const pid_t broker =
      spawn({"/usr/sbin/mosquitto", "-c", dir + "/mosquitto.conf"}, dir + "/mosquitto.log");
  std::this_thread::sleep_for(std::chrono::milliseconds(300));

  fs::create_directory(dir + "/trusted");
  if (run({cmdgate, "bundle", "keygen", "--out", dir + "/ops"}, log) != 0) {
    std::fprintf(stderr, "keygen failed; see %s\n", log.c_str());
    return 1;
  }
  fs::copy_file(dir + "/ops.pub", dir + "/trusted/ops.pub");

  std::vector<pid_t> pids;
  for (size_t i = 0; i < agents; ++i) {
    const std::string a = fmt::format("{}/agent-{:03}", dir, i);
    fs::create_directory(a);
    write_file(a + "/local.toml", "");
    write_file(a + "/cmdgated.toml",
               fmt::format("rules = \"{0}/local.toml\"\naudit_log = \"{0}/decisions.jsonl\"\n"
                           "[fleet]\nbroker = \"{1}\"\ngroups = [\"bench\"]\nhost_id = "
                           "\"agent-{2:03}\"\ntrusted_keys = \"{3}/trusted\"\nstate_dir = "
                           "\"{0}/state\"\n",
                           a, url, i, dir));
    pids.push_back(spawn({cmdgated, "--config", a + "/cmdgated.toml", "--evaluation-only",
                          "--socket", a + "/cmdgate.sock"},
                         a + "/cmdgated.log"));
  }

  Observer obs(port);
  if (!obs.pump_until([&] { return obs.count([](const auto& s) { return s.online; }) == agents; },
                      std::chrono::seconds(60))) {
    std::fprintf(stderr, "only %zu of %zu agents came online\n",
                 obs.count([](const auto& s) { return s.online; }), agents);
    return 1;
  }

  std::vector<double> applied_ms, observed_last_ms, push_cmd_ms;
  json per_round = json::array();
  for (uint64_t r = 1; r <= rounds; ++r) {
    const std::string src = fmt::format("{}/src-{}", dir, r);
    fs::create_directory(src);
    write_file(src + "/10-fleet.toml", rules_toml(rules, r));
    const std::string bundle = src + ".bundle";
    if (run({cmdgate, "bundle", "sign", "--key", dir + "/ops.key", "--group", "bench", "--version",
             std::to_string(r), "--out", bundle, src},
            log) != 0) {
      std::fprintf(stderr, "sign failed; see %s\n", log.c_str());
      return 1;
    }
    const uint64_t t0 = cmdgate::fleet::now_unix_ms();
    const auto c0 = Clock::now();
    if (run({cmdgate, "push", "--broker", url, "--group", "bench", bundle}, log) != 0) {
      std::fprintf(stderr, "push failed; see %s\n", log.c_str());
      return 1;
    }
    push_cmd_ms.push_back(std::chrono::duration<double, std::milli>(Clock::now() - c0).count());
    const bool all = obs.pump_until(
        [&] { return obs.count([&](const auto& s) { return applied_version(s) == r; }) == agents; },
        std::chrono::seconds(60));
    if (!all) {
      std::fprintf(stderr, "round %llu: only %zu of %zu agents applied it\n",
                   static_cast<unsigned long long>(r),
                   obs.count([&](const auto& s) { return applied_version(s) == r; }), agents);
      return 1;
    }
    std::vector<double> round_ms;
    uint64_t last_seen = 0;
    for (const auto& [host, seen] : obs.seen()) {
      round_ms.push_back(static_cast<double>(seen.status.groups[0].applied_unix_ms - t0));
      last_seen = std::max(last_seen, seen.arrived_unix_ms);
    }
    const cmdgate::bench::SampleStats s = summarize(round_ms);
    applied_ms.insert(applied_ms.end(), round_ms.begin(), round_ms.end());
    observed_last_ms.push_back(static_cast<double>(last_seen - t0));
    std::printf(
        "round %llu: applied p50 %.0f ms, p99 %.0f ms, max %.0f ms; last status seen at "
        "%llu ms; push command %.0f ms\n",
        static_cast<unsigned long long>(r), s.p50, s.p99, s.max,
        static_cast<unsigned long long>(last_seen - t0), push_cmd_ms.back());
    per_round.push_back({{"round", r},
                         {"p50_ms", s.p50},
                         {"p99_ms", s.p99},
                         {"max_ms", s.max},
                         {"last_status_ms", last_seen - t0},
                         {"push_command_ms", push_cmd_ms.back()}});
  }

  const cmdgate::bench::SampleStats all = summarize(applied_ms);
  const cmdgate::bench::SampleStats last = summarize(observed_last_ms);
  const cmdgate::bench::SampleStats cmd = summarize(push_cmd_ms);
  std::printf(
      "\n%zu agents, %zu rounds, %zu rules per bundle: push -> applied p50 %.0f ms, "
      "p99 %.0f ms, max %.0f ms (all %zu samples); all agents' status seen: median %.0f "
      "ms, worst %.0f ms; push command p50 %.0f ms\n",
      agents, rounds, rules, all.p50, all.p99, all.max, applied_ms.size(), last.p50, last.max,
      cmd.p50);
  if (!json_out.empty()) {
    write_file(json_out, json({{"agents", agents},
                               {"rounds", rounds},
                               {"rules", rules},
                               {"applied_p50_ms", all.p50},
                               {"applied_p99_ms", all.p99},
                               {"applied_max_ms", all.max},
                               {"rounds_detail", per_round}})
                             .dump(2));
  }
  for (pid_t p : pids) {
    ::kill(p, SIGTERM);
  }
  for (pid_t p : pids) {
    stop(p);
  }
  stop(broker);
  fs::remove_all(dir);
  return 0;
}
