#include "pipeline/decider.h"

#include <gtest/gtest.h>

#include "pipeline_fakes.h"
#include "probe/abi_check.h"
#include "rules/parser.h"

namespace cmdgate {
namespace {

using test::NoNames;

std::shared_ptr<const rules::Policy> policy(const std::string& toml) {
  auto set = rules::parse_rules(toml, "t.toml", NoNames());
  EXPECT_TRUE(set.ok()) << set.error().message;
  auto p = rules::Policy::compile(std::move(*set), rules::SystemFileResolver());
  EXPECT_TRUE(p.ok());
  return *p;
}

TEST(Decider, ParkedAskParksWithTheRulesDeadline) {
  auto p = policy(R"(
[[rule]]
id = "ask"
action = "ask"
timeout = "5s"
timeout_action = "allow"
)");
  ExecEvent e;
  e.flags = CG_EXEC_PARKED;
  e.verdict = rules::KernelVerdict::kEvaluate;
  EvalInput in;
  const Judgement j = decide(e, in, *p);
  EXPECT_EQ(j.response, Response::kPark);
  EXPECT_EQ(j.ask_timeout, std::chrono::seconds(5));
  EXPECT_EQ(j.timeout_action, rules::Action::kAllow);
}

// A failed SIGSTOP means the process is running: what would be held is killed instead.
TEST(Decider, AnExecWhoseStopFailedIsKilledNotParked) {
  auto p = policy("[[rule]]\nid = \"ask\"\naction = \"ask\"\n");
  ExecEvent e;
  e.flags = CG_EXEC_PARKED | CG_EXEC_SIGNAL_FAILED;
  e.verdict = rules::KernelVerdict::kEvaluate;
  EvalInput in;
  EXPECT_EQ(decide(e, in, *p).response, Response::kKill);
}

TEST(Decider, MonitorModeResumesWhatWouldBeDenied) {
  auto p = policy("mode = \"monitor\"\n[[rule]]\nid = \"d\"\naction = \"deny\"\n");
  ExecEvent e;
  e.flags = CG_EXEC_PARKED;
  e.verdict = rules::KernelVerdict::kEvaluate;
  EvalInput in;
  const Judgement j = decide(e, in, *p);
  EXPECT_EQ(j.response, Response::kResume);
  EXPECT_EQ(j.decision.action, rules::Action::kDeny);
}

}  // namespace
}  // namespace cmdgate
