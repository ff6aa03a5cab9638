// The sd_notify protocol as systemd sees it, read from a real NOTIFY_SOCKET datagram socket:
// READY only once the policy is enforced, RELOADING/READY around a reload, STOPPING, STATUS and
// watchdog pets.

#include <signal.h>
#include <time.h>
#include <unistd.h>

#include <atomic>
#include <filesystem>
#include <mutex>
#include <regex>
#include <sstream>
#include <thread>

#include "harness.h"

namespace cmdgate::test {
namespace {

using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;

uint64_t monotonic_usec() {
  timespec ts{};
  ::clock_gettime(CLOCK_MONOTONIC, &ts);
  return static_cast<uint64_t>(ts.tv_sec) * 1000000u + static_cast<uint64_t>(ts.tv_nsec) / 1000u;
}

// The value of KEY= in a notification (one assignment per line), or "".
std::string field(const std::string& msg, const std::string& key) {
  std::istringstream lines(msg);
  std::string line;
  while (std::getline(lines, line)) {
    if (line.starts_with(key + "=")) {
      return line.substr(key.size() + 1);
    }
  }
  return "";
}

class ServiceNotify : public MarkerTargetTest {};

// A prober runs the denied program over and over while the daemon starts. Every run that began
// after READY=1 was received must have been killed: READY promises enforcement.
TEST_F(ServiceNotify, ReadyComesOnlyOnceTheDeniedProgramIsKilled) {
  struct Run {
    Clock::time_point start;
    bool killed;
  };
  std::mutex mu;
  std::vector<Run> runs;
  std::atomic<bool> stop{false};
  const std::string m = work_->file("probe.marker");
  std::thread prober([&] {
    while (!stop.load(std::memory_order_relaxed)) {
      std::filesystem::remove(m);
      const auto start = Clock::now();
      const RunResult r = run({target_, m}, 5s);
      const bool killed = r.signal == SIGKILL && !exists(m);
      std::lock_guard lock(mu);
      runs.push_back({start, killed});
    }
  });
  auto agent = Agent::start({deny_path_rules(target_), {}, false});
  ASSERT_TRUE(agent);
  const auto ready = agent->wait_notify("READY=1", 20s);
  const auto ready_at = Clock::now();
  std::this_thread::sleep_for(200ms);
  stop = true;
  prober.join();
  ASSERT_TRUE(ready) << agent->log_text();

  size_t before = 0, ran_before = 0, after = 0, killed_after = 0;
  for (const Run& r : runs) {
    if (r.start >= ready_at) {
      ++after;
      killed_after += r.killed ? 1 : 0;
    } else {
      ++before;
      ran_before += r.killed ? 0 : 1;
    }
  }
  // The probe saw the host before enforcement, so it would have seen an early READY.
  EXPECT_GT(ran_before, 0u) << before << " runs before READY";
  ASSERT_GT(after, 0u);
  EXPECT_EQ(killed_after, after) << "a run that started after READY=1 was not killed";
}

TEST_F(ServiceNotify, ReadyCarriesTheStatusOfThePolicyInForce) {
  auto agent = Agent::start({deny_path_rules(target_), {}, false});
  ASSERT_TRUE(agent);
  const auto ready = agent->wait_notify("READY=1", 20s);
  ASSERT_TRUE(ready) << agent->log_text();
  EXPECT_EQ(field(*ready, "STATUS"), "generation 1, 1 rules, mode enforce, 0 parked") << *ready;
}

// Start-up is mostly loading and verifying BPF: at debug level the daemon says what each
// program cost the verifier, as the kernel measured it; at info level it asks nothing.
TEST_F(ServiceNotify, DebugLogSaysWhatVerifyingEachProgramCost) {
  auto debug = Agent::start({deny_path_rules(target_), {"--log-level", "debug"}});
  ASSERT_TRUE(debug);
  const std::string log = debug->log_text();
  for (const char* program : {"cg_exec", "cg_fork", "cg_exit"}) {
    const std::regex line(std::string("BPF program ") + program +
                          R"( verified in [0-9]+\.[0-9] ms \([1-9][0-9]* instructions walked\))");
    EXPECT_TRUE(std::regex_search(log, line)) << program << " in:\n" << log;
  }
  auto info = Agent::start({deny_path_rules(target_)});
  ASSERT_TRUE(info);
  EXPECT_EQ(info->log_text().find(" verified in "), std::string::npos) << info->log_text();
}

TEST_F(ServiceNotify, FailedStartSendsNoReady) {
  auto agent = Agent::start({"default_action = \"maybe\"\n", {}, false});
  ASSERT_TRUE(agent);
  EXPECT_FALSE(agent->wait_notify("READY=1", 10s));
  EXPECT_FALSE(agent->running()) << "the daemon should have exited";
  EXPECT_NE(agent->log_text().find("rules.toml:1:"), std::string::npos) << agent->log_text();
}

TEST_F(ServiceNotify, ReloadSaysReloadingThenReadyWithTheNewGeneration) {
  auto agent = Agent::start({deny_path_rules(target_)});
  ASSERT_TRUE(agent);
  agent->write_rules(deny_path_rules(target_) + R"(
[[rule]]
id = "second"
action = "audit"
path = "/nonexistent/never"
)");
  // The write itself may trigger an inotify reload; wait for it to settle before the signal.
  agent->wait_notify("READY=1", 2s);
  const uint64_t before_usec = monotonic_usec();
  ::kill(agent->pid(), SIGHUP);
  const auto reloading = agent->next_notify(10s);
  ASSERT_TRUE(reloading);
  EXPECT_EQ(field(*reloading, "RELOADING"), "1") << *reloading;
  const uint64_t stamp = std::stoull("0" + field(*reloading, "MONOTONIC_USEC"));
  EXPECT_GE(stamp, before_usec);
  EXPECT_LE(stamp, monotonic_usec());
  const auto ready = agent->next_notify(10s);
  ASSERT_TRUE(ready);
  EXPECT_EQ(field(*ready, "READY"), "1") << *ready;
  EXPECT_TRUE(std::regex_match(field(*ready, "STATUS"),
                               std::regex("generation [2-9], 2 rules, mode enforce, 0 parked")))
      << *ready;
}

TEST_F(ServiceNotify, TermSaysStoppingAndExitsCleanly) {
  auto agent = Agent::start({deny_path_rules(target_)});
  ASSERT_TRUE(agent);
  const int status = agent->stop();
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << status;
  const auto stopping = agent->next_notify(1s);
  ASSERT_TRUE(stopping);
  EXPECT_EQ(*stopping, "STOPPING=1");
}

// Counts WATCHDOG=1 datagrams over a window.
std::vector<Clock::time_point> pets(Agent& agent, std::chrono::milliseconds window) {
  std::vector<Clock::time_point> out;
  const auto end = Clock::now() + window;
  while (Clock::now() < end) {
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(end - Clock::now());
    const auto msg = agent.next_notify(std::max(left, 1ms));
    if (msg && *msg == "WATCHDOG=1") {
      out.push_back(Clock::now());
    }
  }
  return out;
}

TEST_F(ServiceNotify, WatchdogIsPettedAtHalfTheTimeout) {
  Agent::Options o{deny_path_rules(target_)};
  o.env = {"WATCHDOG_USEC=200000", "WATCHDOG_PID={pid}"};
  auto agent = Agent::start(o);
  ASSERT_TRUE(agent);
  const auto seen = pets(*agent, 1s);
  // Every 100 ms: 10 in a second, give or take scheduling on a loaded machine.
  EXPECT_GE(seen.size(), 7u);
  EXPECT_LE(seen.size(), 11u);
  for (size_t i = 1; i < seen.size(); ++i) {
    EXPECT_GE(seen[i] - seen[i - 1], 70ms) << "pet " << i;
  }
  EXPECT_NE(agent->log_text().find("watchdog: timeout 200 ms, petting every 100 ms"),
            std::string::npos)
      << agent->log_text();
}

TEST_F(ServiceNotify, NoPetsWhenTheWatchdogIsForAnotherProcess) {
  Agent::Options o{deny_path_rules(target_)};
  o.env = {"WATCHDOG_USEC=200000", fmt::format("WATCHDOG_PID={}", ::getpid())};
  auto agent = Agent::start(o);
  ASSERT_TRUE(agent);
  EXPECT_TRUE(pets(*agent, 400ms).empty());
}

TEST_F(ServiceNotify, NoPetsWithoutAWatchdog) {
  auto agent = Agent::start({deny_path_rules(target_)});
  ASSERT_TRUE(agent);
  EXPECT_TRUE(pets(*agent, 400ms).empty());
}

}  // namespace
}  // namespace cmdgate::test
