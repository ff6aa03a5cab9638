// A parked program runs only when the daemon lets it: the detours an attacker tries first
// (ptrace instead of SIGCONT, a tracer that swallows the stop) on the tracepoint path. Each
// route has a control showing it does run a program when no rule holds it.

#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include "harness.h"

namespace cmdgate::test {
namespace {

using nlohmann::json;
using namespace std::chrono_literals;

std::string ptrace_resume() { return CG_PTRACE_RESUME_PATH; }

class Escape : public MarkerTargetTest {
 protected:
  // Spawns argv and waits until the kernel has parked it (stopped, with a pending request).
  pid_t spawn_parked(Agent& agent, const std::vector<std::string>& argv) {
    const pid_t pid = spawn(argv);
    EXPECT_TRUE(wait_for([&] { return process_state(pid) == 'T'; }, 10s));
    EXPECT_TRUE(agent.wait_decision([&](const json& j) {
      return j["tgid"] == pid && j["outcome"] == "parked";
    })) << agent.log_text();
    return pid;
  }
};

TEST_F(Escape, PtraceSeizeAndContDoNotRunAParkedProgram) {
  auto agent = Agent::start({ask_path_rules(target_)});
  ASSERT_TRUE(agent);
  const pid_t pid = spawn_parked(*agent, {target_, marker("ptrace")});
  const RunResult tracer = run({ptrace_resume(), "attach", std::to_string(pid)});
  auto status = wait_status(pid, 10s);
  ASSERT_TRUE(status) << "the parked program was left stopped";
  EXPECT_TRUE(WIFSIGNALED(*status) && WTERMSIG(*status) == SIGKILL);
  EXPECT_FALSE(exists(marker("ptrace"))) << "its first instruction ran";
  auto d = agent->wait_decision(
      [&](const json& j) { return j["tgid"] == pid && j["decided_by"] == "escape"; });
  ASSERT_TRUE(d) << agent->log_text();
  EXPECT_EQ((*d)["outcome"], "denied");
  EXPECT_NE(agent->log_text().find("a wakeup without a signal (ptrace)"), std::string::npos);
}

TEST_F(Escape, PtraceResumesAStoppedProgramWhenNoRuleHoldsIt) {
  auto agent = Agent::start({deny_path_rules("/nonexistent/never")});
  ASSERT_TRUE(agent);
  // Stopped by itself before it execs the target: the same ptrace route, nothing parked.
  const pid_t pid = spawn({"/bin/sh", "-c", "kill -STOP $$; exec \"$0\" \"$1\"", target_,
                           marker("control")});
  ASSERT_TRUE(wait_for([&] { return process_state(pid) == 'T'; }, 10s));
  const RunResult tracer = run({ptrace_resume(), "attach", std::to_string(pid)});
  EXPECT_EQ(tracer.code, 0);
  EXPECT_TRUE(exists(marker("control")));
}

TEST_F(Escape, ATracerCannotSwallowTheStopOfAnAsk) {
  auto agent = Agent::start({ask_path_rules(target_)});
  ASSERT_TRUE(agent);
  const RunResult r = run({ptrace_resume(), "traceme", target_, marker("traced-ask")});
  EXPECT_EQ(r.code, 128 + SIGKILL);
  EXPECT_FALSE(exists(marker("traced-ask")));
}

TEST_F(Escape, ATracedDeniedProgramDiesBeforeItsFirstInstruction) {
  auto agent = Agent::start({deny_path_rules(target_)});
  ASSERT_TRUE(agent);
  const RunResult r = run({ptrace_resume(), "traceme", target_, marker("traced-deny")});
  EXPECT_EQ(r.code, 128 + SIGKILL);
  EXPECT_FALSE(exists(marker("traced-deny")));
}

TEST_F(Escape, ATracedProgramRunsWhenNoRuleHoldsIt) {
  auto agent = Agent::start({deny_path_rules("/nonexistent/never")});
  ASSERT_TRUE(agent);
  const RunResult r = run({ptrace_resume(), "traceme", target_, marker("traced-control")});
  EXPECT_EQ(r.code, 0);
  EXPECT_TRUE(exists(marker("traced-control")));
}

// The daemon's own verdict still resumes it: the guard tells the daemon's wakeups apart.
TEST_F(Escape, TheDaemonsApprovalStillResumesAParkedProgram) {
  const std::string rules = fmt::format(R"(
default_action = "allow"
[[rule]]
id = "evaluated"
action = "deny"
path = "{}"
args = "^--never$"
)",
                                        target_);
  auto agent = Agent::start({rules});
  ASSERT_TRUE(agent);
  for (int i = 0; i < 20; ++i) {
    const RunResult r = run({target_, marker(fmt::format("ok{}", i)), "--fine"});
    ASSERT_EQ(r.code, 0) << "run " << i;
    EXPECT_TRUE(exists(marker(fmt::format("ok{}", i))));
  }
  EXPECT_EQ(agent->log_text().find("was made to run by"), std::string::npos) << agent->log_text();
}

}  // namespace
}  // namespace cmdgate::test
