// The exec pipeline with fake kernel seams: what each record leads to, exactly once.

#include "pipeline/exec_pipeline.h"

#include <fmt/format.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdio>
#include <fstream>
#include <nlohmann/json.hpp>

#include "pipeline_fakes.h"
#include "probe/abi_check.h"
#include "rules/parser.h"

namespace cmdgate {
namespace {

using nlohmann::json;

class PipelineTest : public ::testing::Test {
 protected:
  void SetUp() override {
    // One file per test process: ctest runs the tests of this fixture in parallel, and a shared
    // file let one test compile another's rules.
    rules_dir_ = ::testing::TempDir() + fmt::format("pipeline-rules-{}.toml", ::getpid());
    load(R"(
default_action = "allow"
[[rule]]
id = "deny-bad"
action = "deny"
path = "/usr/bin/target"
args = "^--bad$"
[[rule]]
id = "ask-risky"
action = "ask"
path = "/usr/bin/target"
args = "^--risky$"
timeout = "2s"
)");
  }

  void TearDown() override { std::remove(rules_dir_.c_str()); }

  void load(const std::string& toml) {
    f_.reset();
    std::ofstream(rules_dir_) << toml;
    store_ = std::make_unique<PolicyStore>(PolicySource{{rules_dir_}, std::nullopt}, names_, files_);
    auto s = store_->build(rules::MatchEngine::kAuto);
    ASSERT_TRUE(s.ok()) << s.error().message;
    s->generation = store_->next_generation();
    store_->commit(std::move(*s));
    f_ = std::make_unique<test::PipelineOnFakes>(*store_);
  }

  std::string rules_dir_;
  test::FakeFiles files_;
  test::NoNames names_;
  std::unique_ptr<PolicyStore> store_;
  std::unique_ptr<test::PipelineOnFakes> f_;
};

TEST_F(PipelineTest, ParkedExecIsResumedOrKilledOnce) {
  f_->pipeline.on_exec(f_->parked_exec(10, {"target", "--ok"}));
  f_->pipeline.on_exec(f_->parked_exec(11, {"target", "--bad"}));
  EXPECT_EQ(f_->control.actions, (std::vector<std::string>{"resume 10", "kill 11"}));
  EXPECT_TRUE(f_->parked.entries.empty());
  ASSERT_EQ(f_->lines.size(), 2u);
  EXPECT_EQ(json::parse(f_->lines[0])["outcome"], "allowed");
  EXPECT_EQ(json::parse(f_->lines[1])["outcome"], "denied");
  EXPECT_EQ(json::parse(f_->lines[1])["rule"], "deny-bad");
}

TEST_F(PipelineTest, ARepeatedRecordGetsNoSecondVerdict) {
  const ExecEvent e = f_->parked_exec(12, {"target", "--ok"});
  f_->pipeline.on_exec(e);
  f_->parked.entries[12] = {12, e.exec_id, f_->clock.now, false};  // as if the erase had been lost
  f_->pipeline.on_exec(e);
  EXPECT_EQ(f_->control.actions.size(), 1u);
  EXPECT_EQ(f_->pipeline.stats().duplicates, 1u);
}

TEST_F(PipelineTest, AskParksUntilItsDeadlineThenAppliesTheTimeoutAction) {
  f_->pipeline.on_exec(f_->parked_exec(13, {"target", "--risky"}));
  EXPECT_TRUE(f_->control.actions.empty());
  EXPECT_EQ(f_->pipeline.pending().size(), 1u);
  EXPECT_EQ(f_->last_line()["outcome"], "parked");

  f_->clock.now += 1'900'000'000;
  f_->pipeline.expire();
  EXPECT_TRUE(f_->control.actions.empty());
  f_->clock.now += 200'000'000;
  f_->pipeline.expire();
  EXPECT_EQ(f_->control.actions, (std::vector<std::string>{"kill 13"}));
  EXPECT_EQ(f_->pipeline.pending().size(), 0u);
  EXPECT_EQ(f_->last_line()["decided_by"], "timeout");
  EXPECT_EQ(f_->last_line()["outcome"], "denied");
  f_->pipeline.expire();
  EXPECT_EQ(f_->control.actions.size(), 1u);
}

TEST_F(PipelineTest, AParkedProcessThatExitsLeavesThePendingListAtOnce) {
  const ExecEvent e = f_->parked_exec(14, {"target", "--risky"});
  f_->pipeline.on_exec(e);
  f_->parked.entries.erase(14);
  f_->pipeline.on_exit(ExitEvent{f_->clock.now, e.exec_id, 14, 9});
  EXPECT_EQ(f_->pipeline.pending().size(), 0u);
  EXPECT_EQ(f_->last_line()["outcome"], "gone");
  f_->clock.now += 10'000'000'000;
  f_->pipeline.expire();
  EXPECT_TRUE(f_->control.actions.empty());
}

TEST_F(PipelineTest, ProcessGoneBeforeTheVerdictIsLoggedNotSignalled) {
  ExecEvent e = f_->parked_exec(15, {"target", "--ok"});
  f_->parked.entries.erase(15);
  f_->pipeline.on_exec(e);
  EXPECT_TRUE(f_->control.actions.empty());
  EXPECT_EQ(f_->last_line()["outcome"], "gone");
}

// The audit login uid and session are the exec's own, from its record: by the time a line is
// written the process may be gone and its pid another's, so /proc is not asked. An id never set
// is left out.
TEST_F(PipelineTest, TheLogLineCarriesTheExecsAuditIdsNotWhatProcSaysLater) {
  f_->proc.files[{17, "loginuid"}] = "2000";  // a later process with the same pid
  f_->proc.files[{17, "sessionid"}] = "9";
  ExecEvent e = f_->parked_exec(17, {"target", "--ok"});
  e.loginuid = 1000;
  f_->pipeline.on_exec(e);
  EXPECT_EQ(f_->last_line()["loginuid"], 1000);
  EXPECT_FALSE(f_->last_line().contains("sessionid"));
}

// Between taking SIGSTOP off its queue and stopping, a parked process shows as running: one look
// is no escape, a second look a tick later is.
TEST_F(PipelineTest, AParkedProcessSeenRunningOnTwoTicksInARowIsKilled) {
  f_->pipeline.on_exec(f_->parked_exec(16, {"target", "--risky"}));
  const std::string running = "Name:\ttarget\nState:\tR (running)\nSigPnd:\t0000000000000000\n"
                              "ShdPnd:\t0000000000000000\n";
  const std::string stopped = "Name:\ttarget\nState:\tT (stopped)\n";
  f_->proc.files[{16, "status"}] = running;
  f_->pipeline.catch_escapes();
  f_->proc.files[{16, "status"}] = stopped;
  f_->pipeline.catch_escapes();
  f_->proc.files[{16, "status"}] = running;
  f_->pipeline.catch_escapes();
  EXPECT_TRUE(f_->control.actions.empty());
  EXPECT_EQ(f_->pipeline.pending().size(), 1u);

  f_->pipeline.catch_escapes();
  EXPECT_EQ(f_->control.actions, (std::vector<std::string>{"kill 16"}));
  EXPECT_EQ(f_->pipeline.pending().size(), 0u);
  EXPECT_EQ(f_->last_line()["decided_by"], "escape");
  EXPECT_EQ(f_->pipeline.stats().escapes, 1u);
}

TEST_F(PipelineTest, ShutdownReleasesEveryParkedProcessByPolicy) {
  f_->pipeline.on_exec(f_->parked_exec(16, {"target", "--risky"}));
  f_->pipeline.on_exec(f_->parked_exec(17, {"target", "--risky"}));
  f_->pipeline.release_all();
  EXPECT_EQ(f_->control.actions, (std::vector<std::string>{"kill 16", "kill 17"}));
  EXPECT_EQ(f_->last_line()["decided_by"], "shutdown");
}

TEST_F(PipelineTest, KernelDecidedRecordsAreExplainedNotActedOn) {
  ExecEvent e = f_->parked_exec(18, {"target", "--bad"});
  f_->parked.entries.erase(18);
  e.flags = CG_EXEC_KILLED;
  e.verdict = rules::KernelVerdict::kDeny;
  f_->pipeline.on_exec(e);
  EXPECT_TRUE(f_->control.actions.empty());
  EXPECT_EQ(f_->last_line()["decided_by"], "kernel");
  EXPECT_EQ(f_->last_line()["outcome"], "killed");
  EXPECT_EQ(f_->last_line()["rule"], "deny-bad");
}

// The BPF LSM refused the exec inside execve: the caller still runs its own image, so nothing may
// be signalled; the log says who refused it and what execve returned.
TEST_F(PipelineTest, LsmRefusedExecIsLoggedAsDeniedAndTheCallerIsLeftAlone) {
  load(R"(
default_action = "allow"
[[rule]]
id = "deny-target"
action = "deny"
path = "/usr/bin/target"
)");
  constexpr uint32_t kNoSuchProcess = 0x3ffffff0;  // a wrong kill must not hit anything real
  ExecEvent e = f_->parked_exec(kNoSuchProcess, {});
  f_->parked.entries.erase(kNoSuchProcess);
  e.flags = CG_EXEC_LSM_DENIED;
  e.verdict = rules::KernelVerdict::kDeny;
  f_->pipeline.on_exec(e);
  EXPECT_TRUE(f_->control.actions.empty());
  EXPECT_EQ(f_->pipeline.stats().killed, 0u);
  const json j = f_->last_line();
  EXPECT_EQ(j["decided_by"], "lsm");
  EXPECT_EQ(j["outcome"], "denied");
  EXPECT_EQ(j["errno"], "EPERM");
  EXPECT_EQ(j["rule"], "deny-target");
  EXPECT_EQ(j["flags"], json::array({"lsm_denied"}));
  EXPECT_EQ(j["gaps"], json::array({"argv not recorded: refused inside execve"}));
  EXPECT_EQ(f_->pipeline.stats().kernel_disagreements, 0u);
}

TEST_F(PipelineTest, MalformedRecordsAreCountedAndDropped) {
  std::vector<std::byte> junk(7, std::byte{0x41});
  f_->pipeline.on_record(junk);
  EXPECT_EQ(f_->pipeline.stats().decode_errors, 1u);
  EXPECT_TRUE(f_->lines.empty());
}

TEST_F(PipelineTest, OrphanedParkedProcessesAreRecoveredOrForgotten) {
  // An entry whose process cannot be read any more is dropped, never signalled.
  f_->parked.entries[19] = {19, 5, f_->clock.now, true};
  f_->clock.now += 5'000'000'000;
  f_->pipeline.recover_orphans();
  EXPECT_TRUE(f_->parked.entries.empty());
  EXPECT_TRUE(f_->control.actions.empty());
}

}  // namespace
}  // namespace cmdgate
