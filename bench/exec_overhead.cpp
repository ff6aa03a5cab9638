// Exec overhead of cmdgate, measured as the difference to a baseline taken in the same run.
//
// Conditions, interleaved in rounds so that drift of a noisy machine hits all of them alike:
//   baseline  no agent
//   allow     agent running; the target is decided in the kernel (no event, no round trip)
//   audit     agent running; the target is allowed in the kernel with a record for the log
//   evaluate  agent running; the target is parked, evaluated by the daemon and released
//   deny      agent running; the target is killed by the kernel (its rule has nothing to tell)
//   deny_told agent running; the target's rule has a message, so the daemon kills it after
//             writing the message to its stderr: the difference to deny is what telling costs
//   labelled  agent running; the allow target, exec'd by a process carrying an AI agent's label
//             (this program re-run as a declared agent), with an `agent = "*"` rule loaded
// Each condition spawns a trivial program (a copy of /bin/true) and waits for it, with
// fork+execve+waitpid or posix_spawn+waitpid. Also reported: the BPF programs' own run time per
// call from kernel.bpf_stats_enabled, and ring-buffer drops while two exec loops run flat out
// against a policy that audits every exec.
//
// Usage: cmdgate_exec_overhead --cmdgated PATH [--execs N] [--rounds R] [--json FILE]

#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <map>
#include <numeric>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include <CLI/CLI.hpp>
#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "sample_stats.h"

extern char** environ;

namespace {

using Clock = std::chrono::steady_clock;
using nlohmann::json;

using cmdgate::bench::SampleStats;
using cmdgate::bench::summarize;

// Every child's stderr: a file, so a told denial's line is written as to a tool runner's log.
int g_child_stderr = 2;

bool ended_as_expected(int status, bool killed) {
  return killed ? WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL
                : WIFEXITED(status) && WEXITSTATUS(status) == 0;
}

double fork_exec_wait(const char* target, bool killed = false) {
  const auto t0 = Clock::now();
  const pid_t pid = ::fork();
  if (pid == 0) {
    ::dup2(g_child_stderr, 2);
    char* argv[] = {const_cast<char*>(target), nullptr};
    ::execve(target, argv, environ);
    ::_exit(127);
  }
  int status = 0;
  ::waitpid(pid, &status, 0);
  const auto t1 = Clock::now();
  if (!ended_as_expected(status, killed)) {
    std::fprintf(stderr, "target %s did not end as expected (status %d)\n", target, status);
    std::exit(1);
  }
  return std::chrono::duration<double, std::micro>(t1 - t0).count();
}

double spawn_wait(const char* target, const char* arg, bool killed = false) {
  static posix_spawn_file_actions_t* actions = [] {
    static posix_spawn_file_actions_t a;
    posix_spawn_file_actions_init(&a);
    posix_spawn_file_actions_adddup2(&a, g_child_stderr, 2);
    return &a;
  }();
  const auto t0 = Clock::now();
  pid_t pid = 0;
  char* argv[] = {const_cast<char*>(target), const_cast<char*>(arg), nullptr};
  if (::posix_spawn(&pid, target, actions, nullptr, argv, environ) != 0) {
    std::perror("posix_spawn");
    std::exit(1);
  }
  int status = 0;
  ::waitpid(pid, &status, 0);
  const auto t1 = Clock::now();
  if (!ended_as_expected(status, killed)) {
    std::fprintf(stderr, "target %s did not exit cleanly (status %d)\n", target, status);
    std::exit(1);
  }
  return std::chrono::duration<double, std::micro>(t1 - t0).count();
}

class Daemon {
 public:
  Daemon(const std::string& cmdgated, const std::string& rules, const std::string& dir)
      : log_(dir + "/cmdgated.log") {
    // Each daemon's own log: "enforcing:" from an earlier one must not pass for this one's.
    std::ofstream(log_, std::ios::trunc);
    pid_ = ::fork();
    if (pid_ == 0) {
      ::prctl(PR_SET_PDEATHSIG, SIGTERM);  // a bench that exits early leaves no daemon behind
      const int fd = ::open(log_.c_str(), O_CREAT | O_WRONLY | O_APPEND, 0644);
      ::dup2(fd, 2);
      const std::string audit = dir + "/decisions.jsonl";
      ::execl(cmdgated.c_str(), cmdgated.c_str(), "--rules", rules.c_str(), "--audit-log",
              audit.c_str(), "--pin-dir", "", nullptr);
      ::_exit(127);
    }
    // Ready when the daemon says it enforces.
    for (int i = 0; i < 2000; ++i) {
      std::ifstream f(log_);
      std::stringstream ss;
      ss << f.rdbuf();
      if (ss.str().find("enforcing:") != std::string::npos) {
        return;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
    std::fprintf(stderr, "cmdgated did not start; see %s\n", log_.c_str());
    std::exit(1);
  }
  ~Daemon() {
    ::kill(pid_, SIGTERM);
    ::waitpid(pid_, nullptr, 0);
  }
  const std::string& log() const { return log_; }

 private:
  std::string log_;
  pid_t pid_ = -1;
};

// run_time_ns / run_cnt of cmdgate's programs, via bpftool.
std::map<std::string, std::pair<uint64_t, uint64_t>> bpf_stats() {
  std::map<std::string, std::pair<uint64_t, uint64_t>> out;
  FILE* p = ::popen("bpftool prog show -j 2>/dev/null", "r");
  if (p == nullptr) {
    return out;
  }
  std::string text;
  char buf[65536];
  size_t n = 0;
  while ((n = std::fread(buf, 1, sizeof(buf), p)) > 0) {
    text.append(buf, n);
  }
  ::pclose(p);
  const json progs = json::parse(text, nullptr, false);
  if (!progs.is_array()) {
    return out;
  }
  for (const auto& prog : progs) {
    const std::string name = prog.value("name", "");
    if (name.rfind("cg_", 0) == 0) {
      out[name] = {prog.value("run_time_ns", uint64_t{0}), prog.value("run_cnt", uint64_t{0})};
    }
  }
  return out;
}

void write_file(const std::string& path, const std::string& text) { std::ofstream(path) << text; }

uint64_t counter_in(const std::string& log, const std::string& name) {
  std::ifstream f(log);
  std::stringstream ss;
  ss << f.rdbuf();
  const std::string text = ss.str();
  const size_t at = text.rfind(" " + name + "=");
  return at == std::string::npos ? 0 : std::stoull(text.substr(at + name.size() + 2));
}

}  // namespace

// Run as a declared agent: the execs of its children carry the agent's label. Prints one line a
// sample, "fork US" or "spawn US".
int labelled_loop(const char* target, size_t n) {
  for (size_t i = 0; i < n; ++i) {
    std::printf("fork %.3f\n", fork_exec_wait(target));
  }
  for (size_t i = 0; i < n; ++i) {
    std::printf("spawn %.3f\n", spawn_wait(target, nullptr));
  }
  return 0;
}

// Runs `agent --labelled-loop target n` and collects its samples.
void run_labelled(const std::string& agent, const std::string& target, size_t n,
                  std::map<std::string, std::vector<double>>& samples, const std::string& cond) {
  const std::string cmd = fmt::format("'{}' --labelled-loop '{}' {}", agent, target, n);
  FILE* p = ::popen(cmd.c_str(), "r");
  if (p == nullptr) {
    std::perror("popen");
    std::exit(1);
  }
  char method[16];
  double us = 0;
  while (std::fscanf(p, "%15s %lf", method, &us) == 2) {
    samples[cond + "/" + method].push_back(us);
  }
  if (::pclose(p) != 0) {
    std::fprintf(stderr, "the labelled loop failed\n");
    std::exit(1);
  }
}

int main(int argc, char** argv) {
  if (argc == 4 && std::string(argv[1]) == "--labelled-loop") {
    return labelled_loop(argv[2], std::stoul(argv[3]));
  }
  CLI::App app{"cmdgate exec-overhead harness"};
  std::string cmdgated;
  size_t execs = 20000;
  size_t rounds = 10;
  double stress_seconds = 5;
  std::string json_out;
  app.add_option("--cmdgated", cmdgated, "Path to cmdgated")->required();
  app.add_option("--execs", execs, "Execs per condition and method")->capture_default_str();
  app.add_option("--rounds", rounds, "Interleaving rounds")->capture_default_str();
  app.add_option("--stress-seconds", stress_seconds, "Two parallel exec loops, audited")
      ->capture_default_str();
  app.add_option("--json", json_out, "Write the results as JSON here");
  CLI11_PARSE(app, argc, argv);
  if (::geteuid() != 0) {
    std::fprintf(stderr, "needs root (it runs cmdgated)\n");
    return 1;
  }

  char tmpl[] = "/tmp/cmdgate-bench.XXXXXX";
  const std::string dir = ::mkdtemp(tmpl);
  const std::string allow_target = dir + "/true-allow";
  const std::string eval_target = dir + "/true-evaluate";
  const std::string deny_target = dir + "/true-deny";
  const std::string told_target = dir + "/true-deny-told";
  const std::string audit_target = dir + "/true-audit";
  for (const auto& t : {allow_target, eval_target, deny_target, told_target, audit_target}) {
    std::filesystem::copy_file("/bin/true", t);
    ::chmod(t.c_str(), 0755);
  }
  const std::string agent = dir + "/cgbenchagent";
  std::filesystem::copy_file("/proc/self/exe", agent);
  ::chmod(agent.c_str(), 0755);
  const std::string agent_only = dir + "/agent-only";  // named by the agent rule, never run
  // evaluate: an args predicate makes the kernel park every exec of it; the daemon allows them
  // (the arg never matches). allow: nothing names it, and the default allows in the kernel.
  const std::string rules = dir + "/rules.toml";
  write_file(rules, fmt::format(R"(
default_action = "allow"
[[rule]]
id = "bench-evaluate"
action = "deny"
path = "{}"
args = "^--never-given$"
[[rule]]
id = "bench-audit"
action = "audit"
path = "{}"
[[rule]]
id = "bench-deny"
action = "deny"
path = "{}"
message = ""
[[rule]]
id = "bench-deny-told"
action = "deny"
path = "{}"
message = "benchmarks are denied, with a reason"
[[agent]]
name = "bench"
path = "{}"
[[rule]]
id = "bench-agent"
action = "ask"
agent = "*"
path = "{}"
)",
                                eval_target, audit_target, deny_target, told_target, agent,
                                agent_only));
  g_child_stderr = ::open((dir + "/children.err").c_str(), O_CREAT | O_WRONLY | O_APPEND | O_CLOEXEC, 0644);
  const std::string audit_rules = dir + "/audit.toml";
  write_file(audit_rules, "default_action = \"audit\"\n");

  // Latency, with kernel.bpf_stats_enabled off (it would time every program run). Blocks, not
  // single execs, alternate: an evaluated exec wakes the daemon, whose work would otherwise land
  // on the next allowed exec.
  std::ofstream("/proc/sys/kernel/bpf_stats_enabled") << "0";
  const size_t per_block = std::max<size_t>(1, execs / rounds);
  std::map<std::string, std::vector<double>> samples;
  auto block = [&](const std::string& cond, const std::string& target, bool killed = false) {
    for (size_t i = 0; i < per_block; ++i) {
      samples[cond + "/fork"].push_back(fork_exec_wait(target.c_str(), killed));
    }
    for (size_t i = 0; i < per_block; ++i) {
      samples[cond + "/spawn"].push_back(spawn_wait(target.c_str(), nullptr, killed));
    }
  };
  for (size_t r = 0; r < rounds; ++r) {
    block("baseline", allow_target);
    {
      Daemon d(cmdgated, rules, dir);
      if (r % 2 == 0) {
        block("allow", allow_target);
        block("audit", audit_target);
        block("evaluate", eval_target);
        block("deny", deny_target, true);
        block("deny_told", told_target, true);
        run_labelled(agent, allow_target, per_block, samples, "labelled");
      } else {
        run_labelled(agent, allow_target, per_block, samples, "labelled");
        block("deny_told", told_target, true);
        block("deny", deny_target, true);
        block("evaluate", eval_target);
        block("audit", audit_target);
        block("allow", allow_target);
      }
    }
    std::fprintf(stderr, "round %zu/%zu done\n", r + 1, rounds);
  }

  // The programs' own cost per call, per path, from the kernel's statistics.
  std::map<std::string, std::map<std::string, std::pair<uint64_t, uint64_t>>> bpf_costs;
  {
    Daemon d(cmdgated, rules, dir);
    std::ofstream("/proc/sys/kernel/bpf_stats_enabled") << "1";
    for (const auto& [path, target] :
         {std::pair<std::string, std::string>{"allow", allow_target},
          {"audit", audit_target},
          {"evaluate", eval_target}}) {
      const auto before = bpf_stats();
      for (size_t i = 0; i < std::min<size_t>(execs, 5000); ++i) {
        spawn_wait(target.c_str(), nullptr);
      }
      for (const auto& [name, v] : bpf_stats()) {
        auto it = before.find(name);
        const auto b = it == before.end() ? std::pair<uint64_t, uint64_t>{0, 0} : it->second;
        bpf_costs[path][name] = {v.first - b.first, v.second - b.second};
      }
    }
    {
      const auto before = bpf_stats();
      std::map<std::string, std::vector<double>> ignored;
      run_labelled(agent, allow_target, std::min<size_t>(execs, 5000) / 2, ignored, "labelled");
      for (const auto& [name, v] : bpf_stats()) {
        auto it = before.find(name);
        const auto b = it == before.end() ? std::pair<uint64_t, uint64_t>{0, 0} : it->second;
        bpf_costs["labelled"][name] = {v.first - b.first, v.second - b.second};
      }
    }
    std::ofstream("/proc/sys/kernel/bpf_stats_enabled") << "0";
  }

  // Two exec loops flat out against an audit-everything policy: every exec is a record.
  uint64_t drops = 0;
  uint64_t stress_execs = 0;
  {
    std::filesystem::create_directory(dir + "/stress");
    Daemon d(cmdgated, audit_rules, dir + "/stress");
    std::atomic<bool> stop{false};
    std::atomic<uint64_t> count{0};
    std::vector<std::thread> loops;
    for (int t = 0; t < 2; ++t) {
      loops.emplace_back([&] {
        while (!stop.load(std::memory_order_relaxed)) {
          spawn_wait(allow_target.c_str(), nullptr);
          count.fetch_add(1, std::memory_order_relaxed);
        }
      });
    }
    std::this_thread::sleep_for(std::chrono::duration<double>(stress_seconds));
    stop = true;
    for (auto& t : loops) {
      t.join();
    }
    stress_execs = count.load();
  }
  drops = counter_in(dir + "/stress/cmdgated.log", "ringbuf_full");

  json out;
  const SampleStats base_fork = summarize(samples["baseline/fork"]);
  const SampleStats base_spawn = summarize(samples["baseline/spawn"]);
  std::printf("%-16s %8s %10s %10s %10s %12s %9s\n", "condition", "n", "mean_us", "p50_us",
              "p99_us", "d_mean_us", "d_mean_%");
  for (const char* cond :
       {"baseline", "allow", "audit", "evaluate", "deny", "deny_told", "labelled"}) {
    for (const char* method : {"fork", "spawn"}) {
      const std::string key = fmt::format("{}/{}", cond, method);
      const SampleStats s = summarize(samples[key]);
      const SampleStats& base = std::string(method) == "fork" ? base_fork : base_spawn;
      const double d = s.mean - base.mean;
      std::printf("%-16s %8zu %10.1f %10.1f %10.1f %+12.1f %+8.1f%%\n", key.c_str(), s.n,
                  s.mean, s.p50, s.p99, d, 100.0 * d / base.mean);
      out["conditions"][key] = {{"n", s.n},
                                {"mean_us", s.mean},
                                {"p50_us", s.p50},
                                {"p99_us", s.p99},
                                {"delta_mean_us", d},
                                {"delta_p50_us", s.p50 - base.p50},
                                {"delta_p99_us", s.p99 - base.p99},
                                {"delta_mean_pct", 100.0 * d / base.mean}};
    }
  }
  for (const char* method : {"fork", "spawn"}) {
    const SampleStats kernel = summarize(samples[fmt::format("deny/{}", method)]);
    const SampleStats told = summarize(samples[fmt::format("deny_told/{}", method)]);
    std::printf("telling a denied caller (%s): %+.1f us mean, %+.1f us p50, %+.1f us p99\n", method,
                told.mean - kernel.mean, told.p50 - kernel.p50,
                told.p99 - kernel.p99);
    out["told_cost"][method] = {{"delta_mean_us", told.mean - kernel.mean},
                                {"delta_p50_us", told.p50 - kernel.p50},
                                {"delta_p99_us", told.p99 - kernel.p99}};
  }
  {
    // Every told denial must have reached the children's stderr, one line each.
    std::ifstream err(dir + "/children.err");
    size_t lines = 0;
    for (std::string line; std::getline(err, line);) {
      lines += line.find("(rule bench-deny-told)") != std::string::npos;
    }
    std::printf("told lines in the children's stderr: %zu of %zu told denials\n", lines,
                samples["deny_told/fork"].size() + samples["deny_told/spawn"].size());
    out["told_lines"] = lines;
  }
  std::printf("\nBPF run time per call (kernel.bpf_stats_enabled=1):\n");
  for (const auto& [path, progs] : bpf_costs) {
    for (const auto& [name, v] : progs) {
      const double per =
          v.second ? static_cast<double>(v.first) / static_cast<double>(v.second) : 0;
      std::printf("  %-9s %-8s %8llu calls %8.0f ns/call\n", path.c_str(), name.c_str(),
                  static_cast<unsigned long long>(v.second), per);
      out["bpf"][path][name] = {{"calls", v.second}, {"ns_per_call", per}};
    }
  }
  // The issue's targets, as ratios of this run: the audit path against the allow path, and the
  // fork hook against the allow path's exec hook.
  auto per_call = [&](const std::string& path, const std::string& prog) {
    const auto& v = bpf_costs[path][prog];
    return v.second ? static_cast<double>(v.first) / static_cast<double>(v.second) : 0.0;
  };
  const double allow_exec = per_call("allow", "cg_exec");
  if (allow_exec > 0) {
    const double audit_ratio = per_call("audit", "cg_exec") / allow_exec;
    const double fork_ratio = per_call("allow", "cg_fork") / allow_exec;
    std::printf("  cg_exec audit / allow: x%.2f; cg_fork / cg_exec allow: x%.2f\n", audit_ratio,
                fork_ratio);
    out["bpf_ratios"] = {{"audit_over_allow_exec", audit_ratio},
                         {"fork_over_allow_exec", fork_ratio}};
  }
  std::printf("\nstress: %llu execs in %.1f s from 2 parallel loops, audited; ring-buffer drops: %llu\n",
              static_cast<unsigned long long>(stress_execs), stress_seconds,
              static_cast<unsigned long long>(drops));
  out["stress"] = {{"execs", stress_execs}, {"seconds", stress_seconds}, {"ringbuf_drops", drops}};
  if (!json_out.empty()) {
    std::ofstream(json_out) << out.dump(2) << "\n";
  }
  std::filesystem::remove_all(dir);
  return 0;
}
