// Reloads under load: two exec loops run while the rules are reloaded 100 times; every exec
// gets exactly one logged decision, and each is decided by one whole policy generation: the one
// the kernel judged it under, although the daemon keeps no old policy once a reload has read the
// ring (no record is "stale").

#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <map>
#include <mutex>
#include <set>
#include <thread>

#include "harness.h"

namespace cmdgate::test {
namespace {

using nlohmann::json;
using namespace std::chrono_literals;

std::string rules_version(int v) {
  // Every version audits every exec and names a different (absent) file in a deny rule, so each
  // reload is a new generation with a different kernel policy.
  return fmt::format(R"(
default_action = "audit"
[[rule]]
id = "version-{}"
action = "deny"
path = "/nonexistent/cmdgate-reload-{}"
)",
                     v, v);
}

TEST(Reload, EveryExecGetsExactlyOneDecisionAcrossAHundredReloads) {
  CMDGATE_REQUIRE_ROOT_BPF();
  TempDir work;
  const std::string target = work.file("target");
  copy_file(marker_path(), target);
  auto agent = Agent::start({rules_version(0)});
  ASSERT_TRUE(agent);

  std::atomic<bool> stop{false};
  std::mutex mu;
  std::set<int64_t> pids;
  std::atomic<int> failures{0};
  std::atomic<size_t> execs_done{0};
  std::vector<std::thread> loops;
  for (int t = 0; t < 2; ++t) {
    loops.emplace_back([&] {
      while (!stop.load()) {
        const pid_t pid = spawn({target, ""});
        auto st = wait_status(pid, 10s);
        if (!st || !WIFEXITED(*st) || WEXITSTATUS(*st) != 0) {
          ++failures;
        }
        {
          std::lock_guard lock(mu);
          pids.insert(pid);
        }
        execs_done.fetch_add(1, std::memory_order_release);
      }
    });
  }
  for (int v = 1; v <= 100; ++v) {
    agent->write_rules(rules_version(v));
    const std::string status = agent->reload();
    ASSERT_EQ(status.find("reload failed"), std::string::npos) << status;
    // Pace the reloads by the execs rather than the clock: each generation sees execs of its
    // own, however fast reloads are compared with execs on a loaded machine.
    const size_t wanted = execs_done.load(std::memory_order_acquire) + 2;
    const auto deadline = std::chrono::steady_clock::now() + 10s;
    while (execs_done.load(std::memory_order_acquire) < wanted &&
           std::chrono::steady_clock::now() < deadline) {
      std::this_thread::sleep_for(1ms);
    }
  }
  stop = true;
  for (auto& t : loops) {
    t.join();
  }
  EXPECT_EQ(failures.load(), 0);
  ASSERT_EQ(agent->stop(), 0);  // flushes what is still in the ring buffer

  std::map<int64_t, int> decisions;
  std::set<uint64_t> generations;
  for (const json& d : agent->decisions()) {
    if (d["exe"] == target) {
      decisions[d["tgid"].get<int64_t>()]++;
      generations.insert(d["generation"].get<uint64_t>());
      EXPECT_EQ(d["outcome"], "audited");
    }
  }
  EXPECT_GE(pids.size(), 200u);
  for (int64_t pid : pids) {
    EXPECT_EQ(decisions[pid], 1) << "pid " << pid;
  }
  EXPECT_EQ(decisions.size(), pids.size());
  EXPECT_GT(generations.size(), 50u);
  const std::string log = agent->log_text();
  const size_t stale = log.rfind(" stale_generation=");
  ASSERT_NE(stale, std::string::npos) << log;
  EXPECT_EQ(std::stoull(log.substr(stale + 18)), 0u) << "records judged by a later policy";
}

}  // namespace
}  // namespace cmdgate::test
