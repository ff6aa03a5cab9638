// An exec that needs the daemon never runs unevaluated: with a one-page ring buffer and a daemon
// that cannot read it, execs are killed (kill policy) or held and recovered (hold policy).

#include <signal.h>
#include <sys/wait.h>

#include <fstream>
#include <map>
#include <thread>

#include "harness.h"

namespace cmdgate::test {
namespace {

using nlohmann::json;
using namespace std::chrono_literals;

constexpr int kExecs = 40;

std::string evaluate_deny_rules(const std::string& path) {
  // args makes it an EVALUATE exec; the daemon denies every one of them.
  return fmt::format(R"(
default_action = "allow"
[[rule]]
id = "never-run"
action = "deny"
path = "{}"
args = "^--run$"
)",
                     path);
}

uint64_t counter(const std::string& log, const std::string& name) {
  const size_t at = log.rfind(" " + name + "=");
  if (at == std::string::npos) {
    return 0;
  }
  return std::stoull(log.substr(at + name.size() + 2));
}

class DeliveryFailure : public MarkerTargetTest {
 protected:
  // Freezes the daemon, fires kExecs execs at it, thaws it; returns the children's statuses.
  std::vector<int> flood(Agent& agent) {
    ::kill(agent.pid(), SIGSTOP);
    std::vector<pid_t> kids;
    for (int i = 0; i < kExecs; ++i) {
      kids.push_back(spawn({target_, work_->file(fmt::format("m{}", i)), "--run"}));
    }
    std::this_thread::sleep_for(300ms);
    ::kill(agent.pid(), SIGCONT);
    std::vector<int> statuses;
    for (pid_t k : kids) {
      auto st = wait_status(k, 20s);
      statuses.push_back(st ? *st : -1);
    }
    return statuses;
  }
};

TEST_F(DeliveryFailure, FullRingBufferFailsClosed) {
  auto agent = Agent::start({evaluate_deny_rules(target_), {"--ringbuf-size", "4096"}});
  ASSERT_TRUE(agent);
  for (int st : flood(*agent)) {
    ASSERT_NE(st, -1) << "a process was left parked";
    EXPECT_TRUE(WIFSIGNALED(st) && WTERMSIG(st) == SIGKILL);
  }
  for (int i = 0; i < kExecs; ++i) {
    EXPECT_FALSE(exists(work_->file(fmt::format("m{}", i)))) << "exec " << i << " ran";
  }
  agent->stop();
  const std::string log = agent->log_text();
  EXPECT_GT(counter(log, "ringbuf_full"), 0u) << log;
  EXPECT_GT(counter(log, "failsafe_kill"), 0u) << log;
}

TEST_F(DeliveryFailure, HeldExecsAreRecoveredAndDecided) {
  auto agent = Agent::start(
      {evaluate_deny_rules(target_), {"--ringbuf-size", "4096", "--delivery-failure", "hold"}});
  ASSERT_TRUE(agent);
  for (int st : flood(*agent)) {
    ASSERT_NE(st, -1) << "a process was left parked";
    EXPECT_TRUE(WIFSIGNALED(st) && WTERMSIG(st) == SIGKILL);
  }
  for (int i = 0; i < kExecs; ++i) {
    EXPECT_FALSE(exists(work_->file(fmt::format("m{}", i)))) << "exec " << i << " ran";
  }
  // Every exec got exactly one decision line. The daemon logs after it kills: the last lines
  // may still be on their way when the last child is reaped.
  std::map<int64_t, int> per_pid;
  const auto count = [&] {
    per_pid.clear();
    for (const json& d : agent->decisions()) {
      if (d["exe"] == target_) {
        per_pid[d["tgid"].get<int64_t>()]++;
      }
    }
    return per_pid.size() == static_cast<size_t>(kExecs);
  };
  EXPECT_TRUE(wait_for(count, 5s)) << per_pid.size() << " of " << kExecs << " decided";
  for (const auto& [pid, n] : per_pid) {
    EXPECT_EQ(n, 1) << "pid " << pid;
  }
  agent->stop();
  const std::string log = agent->log_text();
  EXPECT_GT(counter(log, "failsafe_hold"), 0u) << log;
  EXPECT_NE(log.find("recovering parked process"), std::string::npos);
}

}  // namespace
}  // namespace cmdgate::test
