// The daemon's death is no open door: its pinned programs keep enforcing the last policy, execs
// that need a daemon follow delivery_failure, and the next daemon adopts what was left.

#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <cstdio>
#include <filesystem>
#include <thread>

#include "harness.h"

namespace cmdgate::test {
namespace {

using nlohmann::json;
using namespace std::chrono_literals;

// Execs `target marker-N --run` back to back on a thread until stopped; counts what happened.
class ExecLoop {
 public:
  ExecLoop(std::string target, std::string dir) : target_(std::move(target)), dir_(std::move(dir)) {
    thread_ = std::thread([this] {
      while (!stop_.load()) {
        const std::string m = marker(started_.load());
        const pid_t pid = ::fork();
        if (pid == 0) {
          exec_argv({target_, m, "--run"});
        }
        started_.fetch_add(1);
        auto st = wait_status(pid, 30s);
        if (!st) {
          ::kill(pid, SIGKILL);
          ++stuck_;
          wait_status(pid, 5s);
        } else if (WIFSIGNALED(*st) && WTERMSIG(*st) == SIGKILL) {
          ++killed_;
        } else {
          ++ran_;
        }
      }
    });
  }
  ~ExecLoop() { stop(); }
  void stop() {
    stop_ = true;
    if (thread_.joinable()) {
      thread_.join();
    }
  }
  // Waits until `n` more execs have completed.
  void wait_more(int n) {
    const int goal = started_.load() + n;
    wait_for([&] { return started_.load() >= goal; }, 30s);
  }
  [[nodiscard]] std::string marker(int i) const { return fmt::format("{}/m{}", dir_, i); }
  [[nodiscard]] int markers() const {
    int n = 0;
    for (int i = 0; i < started_.load(); ++i) {
      n += exists(marker(i)) ? 1 : 0;
    }
    return n;
  }
  int started() const { return started_.load(); }
  int killed() const { return killed_.load(); }
  int ran() const { return ran_.load(); }
  int stuck() const { return stuck_.load(); }

 private:
  std::string target_;
  std::string dir_;
  std::atomic<bool> stop_{false};
  std::atomic<int> started_{0};
  std::atomic<int> killed_{0};
  std::atomic<int> ran_{0};
  std::atomic<int> stuck_{0};
  std::thread thread_;
};

class DaemonDeath : public MarkerTargetTest {};

// The window between a crash and the next daemon: a denied program is exec'd in a tight loop
// across kill -9 and a restart, and not one exec of it runs.
TEST_F(DaemonDeath, DeniedProgramNeverRunsAcrossKill9AndRestart) {
  auto first = Agent::start({deny_path_rules(target_)});
  ASSERT_TRUE(first);
  ExecLoop loop(target_, work_->path());
  loop.wait_more(20);
  const auto crashed_at = std::chrono::steady_clock::now();
  first->crash();
  loop.wait_more(50);  // with no daemon at all
  Agent::Options next(deny_path_rules(target_));
  next.pin_dir = first->pin_dir();
  auto second = Agent::start(next);
  ASSERT_TRUE(second);
  const auto gap = std::chrono::steady_clock::now() - crashed_at;
  loop.wait_more(20);
  loop.stop();
  RecordProperty("execs", loop.started());
  RecordProperty("gap_ms", static_cast<int>(gap / 1ms));
  std::printf("window: %d execs of a denied program across kill -9 and a restart %d ms later: "
              "%d ran\n",
              loop.started(), static_cast<int>(gap / 1ms), loop.markers());
  EXPECT_GE(loop.started(), 90);
  EXPECT_EQ(loop.markers(), 0) << "execs of the denied program that ran";
  EXPECT_EQ(loop.ran(), 0);
  EXPECT_EQ(loop.killed(), loop.started());
  EXPECT_NE(second->log_text().find("adopted the state pinned at"), std::string::npos)
      << second->log_text();
}

// Control: the same loop with no rule holding the program runs every exec.
TEST_F(DaemonDeath, TheLoopRunsTheProgramWhenNoRuleHoldsIt) {
  auto first = Agent::start({deny_path_rules("/nonexistent/never")});
  ASSERT_TRUE(first);
  ExecLoop loop(target_, work_->path());
  loop.wait_more(20);
  first->crash();
  loop.wait_more(20);
  loop.stop();
  EXPECT_EQ(loop.markers(), loop.started());
  EXPECT_EQ(loop.ran(), loop.started());
  EXPECT_EQ(uninstall(first->pin_dir()), 0);
}

// An exec that needs a daemon while none runs is held (delivery_failure = hold) and decided by
// the next daemon, which reads the record its predecessor never did.
TEST_F(DaemonDeath, HeldExecsAreDecidedByTheNextDaemon) {
  const std::string rules = fmt::format(R"(
default_action = "allow"
[[rule]]
id = "never-run"
action = "deny"
path = "{}"
args = "^--run$"
)",
                                        target_);
  const std::vector<std::string> args = {"--delivery-failure", "hold"};
  auto first = Agent::start({rules, args});
  ASSERT_TRUE(first);
  first->crash();
  std::vector<pid_t> held;
  std::vector<pid_t> fine;
  for (int i = 0; i < 5; ++i) {
    held.push_back(spawn({target_, work_->file(fmt::format("held{}", i)), "--run"}));
    fine.push_back(spawn({target_, work_->file(fmt::format("fine{}", i)), "--ok"}));
  }
  for (pid_t p : held) {
    EXPECT_TRUE(wait_for([&] { return process_state(p) == 'T'; }, 10s)) << "not held: " << p;
  }
  Agent::Options next(rules, args);
  next.pin_dir = first->pin_dir();
  auto second = Agent::start(next);
  ASSERT_TRUE(second);
  for (int i = 0; i < 5; ++i) {
    auto st = wait_status(held[static_cast<size_t>(i)], 10s);
    ASSERT_TRUE(st) << "left stopped";
    EXPECT_TRUE(WIFSIGNALED(*st) && WTERMSIG(*st) == SIGKILL);
    EXPECT_FALSE(exists(work_->file(fmt::format("held{}", i))));
    auto ok = wait_status(fine[static_cast<size_t>(i)], 10s);
    ASSERT_TRUE(ok) << "left stopped";
    EXPECT_TRUE(WIFEXITED(*ok) && WEXITSTATUS(*ok) == 0);
    EXPECT_TRUE(exists(work_->file(fmt::format("fine{}", i))));
  }
  auto d = second->wait_decision([&](const json& j) {
    return j["tgid"] == held[0] && j["outcome"] == "denied" && j["rule"] == "never-run";
  });
  ASSERT_TRUE(d) << second->log_text();
}

// With the default delivery_failure (kill) an exec that needs the daemon dies while none runs,
// instead of running unjudged; the same program runs once a daemon is back.
TEST_F(DaemonDeath, EvaluatedExecsFailClosedWhileNoDaemonRuns) {
  const std::string rules = fmt::format(R"(
default_action = "allow"
[[rule]]
id = "never-run"
action = "deny"
path = "{}"
args = "^--run$"
)",
                                        target_);
  auto first = Agent::start({rules});
  ASSERT_TRUE(first);
  first->crash();
  const RunResult gone = run({target_, marker("no-daemon"), "--ok"});
  EXPECT_EQ(gone.signal, SIGKILL);
  EXPECT_FALSE(exists(marker("no-daemon")));
  Agent::Options next(rules);
  next.pin_dir = first->pin_dir();
  auto second = Agent::start(next);
  ASSERT_TRUE(second);
  const RunResult back = run({target_, marker("daemon-back"), "--ok"});
  EXPECT_EQ(back.code, 0);
  EXPECT_TRUE(exists(marker("daemon-back")));
}

// Under a policy that sends every unknown file to the daemon (a sha256 rule), a daemon can
// still start while none runs, and so can an upgraded one installed at its path.
TEST_F(DaemonDeath, ADaemonAndItsUpgradeCanStartUnderAStrictPolicy) {
  const std::string bin = work_->file("cmdgated");
  copy_file(cmdgated_path(), bin);
  const std::string rules = deny_path_rules(target_, fmt::format(R"([[rule]]
id = "deny-content"
action = "deny"
sha256 = "{}")",
                                                                  std::string(64, '0')));
  Agent::Options opts(rules);
  opts.binary = bin;
  auto first = Agent::start(opts);
  ASSERT_TRUE(first);
  // An unknown file needs the daemon; with none, it is killed.
  first->crash();
  const RunResult strict = run({"/bin/true"});
  EXPECT_EQ(strict.signal, SIGKILL) << "the policy is not as strict as this test needs";
  // The same daemon starts again.
  Agent::Options again = opts;
  again.pin_dir = first->pin_dir();
  auto second = Agent::start(again);
  ASSERT_TRUE(second);
  // An upgrade replaces the file (a new inode) while the daemon runs, then restarts it.
  const std::string staged = bin + ".new";
  copy_file(cmdgated_path(), staged);
  ASSERT_EQ(::rename(staged.c_str(), bin.c_str()), 0);
  const std::string pins = second->pin_dir();
  EXPECT_EQ(second->stop(), 0);
  Agent::Options upgraded = opts;
  upgraded.pin_dir = pins;
  auto third = Agent::start(upgraded);
  ASSERT_TRUE(third);
}

// `cmdgated --uninstall` ends enforcement for good and settles what is parked.
TEST_F(DaemonDeath, UninstallDetachesEverythingAndSettlesParkedProcesses) {
  const std::string rules = fmt::format(R"(
default_action = "allow"
[[rule]]
id = "ask-target"
action = "ask"
path = "{}"
timeout = "60s"
)",
                                        target_);
  auto first = Agent::start({rules, {"--delivery-failure", "hold"}});
  ASSERT_TRUE(first);
  const std::string pins = first->pin_dir();
  first->crash();
  const pid_t held = spawn({target_, marker("held")});
  ASSERT_TRUE(wait_for([&] { return process_state(held) == 'T'; }, 10s));
  EXPECT_EQ(uninstall(pins), 0);
  auto st = wait_status(held, 10s);
  ASSERT_TRUE(st) << "uninstall left it stopped";
  EXPECT_TRUE(WIFSIGNALED(*st) && WTERMSIG(*st) == SIGKILL);
  EXPECT_FALSE(exists(marker("held")));
  EXPECT_FALSE(exists(pins));
  const RunResult free = run({target_, marker("free")});
  EXPECT_EQ(free.code, 0);
  EXPECT_TRUE(exists(marker("free")));
}

// A second daemon on the same state is refused while the first runs.
TEST_F(DaemonDeath, ASecondDaemonCannotStealTheState) {
  auto first = Agent::start({deny_path_rules(target_)});
  ASSERT_TRUE(first);
  Agent::Options other(deny_path_rules(target_));
  other.pin_dir = first->pin_dir();
  other.wait_ready = false;
  auto second = Agent::start(other);
  ASSERT_TRUE(second);
  EXPECT_TRUE(wait_for([&] { return !second->alive(); }, 10s));
  EXPECT_NE(second->log_text().find("already enforces from"), std::string::npos)
      << second->log_text();
  EXPECT_EQ(uninstall(first->pin_dir()), 1) << "uninstall must refuse while a daemon runs";
  const RunResult r = run({target_, marker("still")});
  EXPECT_EQ(r.signal, SIGKILL);
}

}  // namespace
}  // namespace cmdgate::test
