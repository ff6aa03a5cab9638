// Which hook refuses denied execs is decided at start-up and reported; configuration can force
// either. The BPF LSM side itself is exercised in a VM (tests/vm): on a host where LSM programs
// do not load, this checks the fallback and the refusal to start with --enforcement lsm; on one
// where they do, it checks that the tracepoint can be forced.

#include <signal.h>
#include <sys/wait.h>

#include "harness.h"

namespace cmdgate::test {
namespace {

using namespace std::chrono_literals;

bool contains(const std::string& text, const std::string& what) {
  return text.find(what) != std::string::npos;
}

class EnforcementHook : public MarkerTargetTest {};

TEST_F(EnforcementHook, AutoReportsTheHookAndEitherCanBeForced) {
  auto agent = Agent::start({deny_path_rules(target_)});
  ASSERT_TRUE(agent);
  const std::string log = agent->log_text();
  const bool lsm = contains(log, "enforcement: lsm");
  ASSERT_TRUE(lsm || contains(log, "enforcement: tracepoint (")) << log;
  agent->stop();

  if (lsm) {
    auto forced = Agent::start({deny_path_rules(target_), {"--enforcement", "tracepoint"}});
    ASSERT_TRUE(forced);
    EXPECT_TRUE(contains(forced->log_text(), "enforcement: tracepoint (configured)"))
        << forced->log_text();
    const RunResult r = run({target_, work_->file("m")});
    EXPECT_EQ(r.signal, SIGKILL);
    EXPECT_FALSE(exists(work_->file("m")));
    return;
  }

  // No usable BPF LSM here: forcing it must fail start-up, saying why. "auto" may tell from a
  // quicker probe (a program naming no hook); forcing tries the real hook, and both must agree.
  const size_t reason_at = log.find("enforcement: tracepoint (") + 25;
  const std::string reason = log.substr(reason_at, log.find(");", reason_at) - reason_at);
  auto forced = Agent::start({deny_path_rules(target_), {"--enforcement", "lsm"}, false});
  ASSERT_TRUE(forced);
  EXPECT_TRUE(wait_for(
      [&] {
        return contains(forced->log_text(), "enforcement = lsm, but the BPF LSM is unavailable");
      },
      20s))
      << forced->log_text();
  EXPECT_TRUE(contains(forced->log_text(), "unavailable: " + reason))
      << "auto said: " << reason << "\n" << forced->log_text();
  const int status = forced->stop();
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 1) << "wait status " << status;
  EXPECT_FALSE(contains(forced->log_text(), "enforcing:")) << forced->log_text();
}

}  // namespace
}  // namespace cmdgate::test
