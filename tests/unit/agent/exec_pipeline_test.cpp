// The exec pipeline with fake kernel seams: what each record leads to, exactly once.

#include "pipeline/exec_pipeline.h"

#include <fmt/format.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdio>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>

#include "probe/abi_check.h"
#include "rules/parser.h"

namespace cmdgate {
namespace {

using nlohmann::json;
using ::testing::_;
using ::testing::Return;

class FakeClock final : public Clock {
 public:
  uint64_t monotonic_ns() const override { return now; }
  uint64_t now = 1'000'000'000;
};

class FakeProcFs final : public ProcFs {
 public:
  Result<std::string> read(uint32_t pid, std::string_view entry, size_t) const override {
    auto it = files.find({pid, std::string(entry)});
    if (it == files.end()) {
      return Error{"no such file"};
    }
    return it->second;
  }
  Result<std::string> read_link(uint32_t, std::string_view) const override {
    return Error{"no link"};
  }
  Result<Fd> open(uint32_t, std::string_view) const override { return Error{"no file"}; }
  std::map<std::pair<uint32_t, std::string>, std::string> files;
};

class FakeParked final : public ParkedStore {
 public:
  std::optional<ParkedEntry> lookup(uint32_t tgid) const override {
    auto it = entries.find(tgid);
    return it == entries.end() ? std::nullopt : std::optional(it->second);
  }
  bool erase(uint32_t tgid, uint64_t exec_id) override {
    auto it = entries.find(tgid);
    if (it == entries.end() || it->second.exec_id != exec_id) {
      return false;
    }
    entries.erase(it);
    return true;
  }
  std::vector<ParkedEntry> list() const override {
    std::vector<ParkedEntry> out;
    for (const auto& [k, v] : entries) {
      out.push_back(v);
    }
    return out;
  }
  std::map<uint32_t, ParkedEntry> entries;
};

// Records what was done to which process; refuses to pin what is not parked.
class FakeControl final : public ProcessControl {
 public:
  explicit FakeControl(FakeParked& parked) : parked_(parked) {}
  Result<ProcessHandle> pin(uint32_t tgid, uint64_t exec_id) override {
    auto e = parked_.lookup(tgid);
    if (!e || e->exec_id != exec_id) {
      return Error{"not parked"};
    }
    return ProcessHandle{tgid, exec_id, Fd()};
  }
  Status resume(ProcessHandle& p) override {
    parked_.erase(p.tgid, p.exec_id);
    actions.push_back("resume " + std::to_string(p.tgid));
    return {};
  }
  Status kill(ProcessHandle& p) override {
    parked_.erase(p.tgid, p.exec_id);
    actions.push_back("kill " + std::to_string(p.tgid));
    return {};
  }
  std::vector<std::string> actions;

 private:
  FakeParked& parked_;
};

class MockLearner : public Learner {
 public:
  MOCK_METHOD(void, learn,
              (const rules::FileId&, int64_t, uint32_t, rules::InodeVerdict, uint32_t), (override));
};

class MemoryWriter final : public LineWriter {
 public:
  explicit MemoryWriter(std::vector<std::string>& lines) : lines_(lines) {}
  void write(std::string_view line) override { lines_.emplace_back(line); }
  void flush() override {}

 private:
  std::vector<std::string>& lines_;
};

class FakeFiles final : public rules::FileResolver {
 public:
  std::optional<rules::FileId> identity(const std::string& path) const override {
    if (path == "/usr/bin/target") {
      return rules::FileId{1, 100};
    }
    return std::nullopt;
  }
  std::string canonical(const std::string& path) const override { return path; }
  std::vector<std::string> expand(const std::string&) const override { return {}; }
};

// Files established at once: argv as recorded, nothing hashed.
class ImmediateFiles final : public FileFacts {
 public:
  void establish(const ExecEvent& e, uint32_t, const std::vector<rules::HeldTool>&,
                 Done done) override {
    ExecFiles f;
    f.argv = e.argv;
    done(std::move(f));
  }
};

class NoNames final : public rules::NameResolver {
 public:
  std::optional<uint32_t> uid(const std::string&) const override { return std::nullopt; }
  std::optional<uint32_t> gid(const std::string&) const override { return std::nullopt; }
};

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
    std::ofstream(rules_dir_) << toml;
    store_ = std::make_unique<PolicyStore>(PolicySource{{rules_dir_}, std::nullopt}, names_, files_);
    auto s = store_->build(rules::MatchEngine::kAuto);
    ASSERT_TRUE(s.ok()) << s.error().message;
    s->generation = store_->next_generation();
    store_->commit(std::move(*s));
    contexts_ = std::make_unique<ContextBuilder>(proc_, exe_paths_);
    log_ = std::make_unique<DecisionLog>(std::make_unique<MemoryWriter>(lines_));
    pipeline_ = std::make_unique<ExecPipeline>(
        PipelineDeps{clock_, proc_, immediate_files_, *contexts_, control_, parked_, learner_,
                     *store_, *log_},
        PipelineOptions{});
  }

  ExecEvent parked_exec(uint32_t tgid, std::vector<std::string> argv) {
    ExecEvent e;
    e.tgid = e.pid = tgid;
    e.exec_id = 1000 + tgid;
    e.ktime_ns = clock_.now;
    e.file = {1, 100};
    e.path = "/usr/bin/target";
    e.argv = std::move(argv);
    e.verdict = rules::KernelVerdict::kEvaluate;
    e.flags = CG_EXEC_PARKED;
    e.generation = store_->current()->generation;
    parked_.entries[tgid] = {tgid, e.exec_id, clock_.now, false};
    return e;
  }

  json last_line() const { return json::parse(lines_.back()); }

  std::string rules_dir_;
  FakeClock clock_;
  FakeProcFs proc_;
  FakeFiles files_;
  NoNames names_;
  FakeParked parked_;
  FakeControl control_{parked_};
  ::testing::NiceMock<MockLearner> learner_;
  ExePathCache exe_paths_{proc_};
  ImmediateFiles immediate_files_;
  std::vector<std::string> lines_;
  std::unique_ptr<PolicyStore> store_;
  std::unique_ptr<ContextBuilder> contexts_;
  std::unique_ptr<DecisionLog> log_;
  std::unique_ptr<ExecPipeline> pipeline_;
};

TEST_F(PipelineTest, ParkedExecIsResumedOrKilledOnce) {
  pipeline_->on_exec(parked_exec(10, {"target", "--ok"}));
  pipeline_->on_exec(parked_exec(11, {"target", "--bad"}));
  EXPECT_EQ(control_.actions, (std::vector<std::string>{"resume 10", "kill 11"}));
  EXPECT_TRUE(parked_.entries.empty());
  ASSERT_EQ(lines_.size(), 2u);
  EXPECT_EQ(json::parse(lines_[0])["outcome"], "allowed");
  EXPECT_EQ(json::parse(lines_[1])["outcome"], "denied");
  EXPECT_EQ(json::parse(lines_[1])["rule"], "deny-bad");
}

TEST_F(PipelineTest, ARepeatedRecordGetsNoSecondVerdict) {
  const ExecEvent e = parked_exec(12, {"target", "--ok"});
  pipeline_->on_exec(e);
  parked_.entries[12] = {12, e.exec_id, clock_.now, false};  // as if the erase had been lost
  pipeline_->on_exec(e);
  EXPECT_EQ(control_.actions.size(), 1u);
  EXPECT_EQ(pipeline_->stats().duplicates, 1u);
}

TEST_F(PipelineTest, AskParksUntilItsDeadlineThenAppliesTheTimeoutAction) {
  pipeline_->on_exec(parked_exec(13, {"target", "--risky"}));
  EXPECT_TRUE(control_.actions.empty());
  EXPECT_EQ(pipeline_->pending().size(), 1u);
  EXPECT_EQ(last_line()["outcome"], "parked");

  clock_.now += 1'900'000'000;
  pipeline_->expire();
  EXPECT_TRUE(control_.actions.empty());
  clock_.now += 200'000'000;
  pipeline_->expire();
  EXPECT_EQ(control_.actions, (std::vector<std::string>{"kill 13"}));
  EXPECT_EQ(pipeline_->pending().size(), 0u);
  EXPECT_EQ(last_line()["decided_by"], "timeout");
  EXPECT_EQ(last_line()["outcome"], "denied");
  pipeline_->expire();
  EXPECT_EQ(control_.actions.size(), 1u);
}

TEST_F(PipelineTest, AParkedProcessThatExitsLeavesThePendingListAtOnce) {
  const ExecEvent e = parked_exec(14, {"target", "--risky"});
  pipeline_->on_exec(e);
  parked_.entries.erase(14);
  pipeline_->on_exit(ExitEvent{clock_.now, e.exec_id, 14, 9});
  EXPECT_EQ(pipeline_->pending().size(), 0u);
  EXPECT_EQ(last_line()["outcome"], "gone");
  clock_.now += 10'000'000'000;
  pipeline_->expire();
  EXPECT_TRUE(control_.actions.empty());
}

TEST_F(PipelineTest, ProcessGoneBeforeTheVerdictIsLoggedNotSignalled) {
  ExecEvent e = parked_exec(15, {"target", "--ok"});
  parked_.entries.erase(15);
  pipeline_->on_exec(e);
  EXPECT_TRUE(control_.actions.empty());
  EXPECT_EQ(last_line()["outcome"], "gone");
}

// Between taking SIGSTOP off its queue and stopping, a parked process shows as running: one look
// is no escape, a second look a tick later is.
TEST_F(PipelineTest, AParkedProcessSeenRunningOnTwoTicksInARowIsKilled) {
  pipeline_->on_exec(parked_exec(16, {"target", "--risky"}));
  const std::string running = "Name:\ttarget\nState:\tR (running)\nSigPnd:\t0000000000000000\n"
                              "ShdPnd:\t0000000000000000\n";
  const std::string stopped = "Name:\ttarget\nState:\tT (stopped)\n";
  proc_.files[{16, "status"}] = running;
  pipeline_->catch_escapes();
  proc_.files[{16, "status"}] = stopped;
  pipeline_->catch_escapes();
  proc_.files[{16, "status"}] = running;
  pipeline_->catch_escapes();
  EXPECT_TRUE(control_.actions.empty());
  EXPECT_EQ(pipeline_->pending().size(), 1u);

  pipeline_->catch_escapes();
  EXPECT_EQ(control_.actions, (std::vector<std::string>{"kill 16"}));
  EXPECT_EQ(pipeline_->pending().size(), 0u);
  EXPECT_EQ(last_line()["decided_by"], "escape");
  EXPECT_EQ(pipeline_->stats().escapes, 1u);
}

TEST_F(PipelineTest, ShutdownReleasesEveryParkedProcessByPolicy) {
  pipeline_->on_exec(parked_exec(16, {"target", "--risky"}));
  pipeline_->on_exec(parked_exec(17, {"target", "--risky"}));
  pipeline_->release_all();
  EXPECT_EQ(control_.actions, (std::vector<std::string>{"kill 16", "kill 17"}));
  EXPECT_EQ(last_line()["decided_by"], "shutdown");
}

TEST_F(PipelineTest, KernelDecidedRecordsAreExplainedNotActedOn) {
  ExecEvent e = parked_exec(18, {"target", "--bad"});
  parked_.entries.erase(18);
  e.flags = CG_EXEC_KILLED;
  e.verdict = rules::KernelVerdict::kDeny;
  pipeline_->on_exec(e);
  EXPECT_TRUE(control_.actions.empty());
  EXPECT_EQ(last_line()["decided_by"], "kernel");
  EXPECT_EQ(last_line()["outcome"], "killed");
  EXPECT_EQ(last_line()["rule"], "deny-bad");
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
  ExecEvent e = parked_exec(kNoSuchProcess, {});
  parked_.entries.erase(kNoSuchProcess);
  e.flags = CG_EXEC_LSM_DENIED;
  e.verdict = rules::KernelVerdict::kDeny;
  pipeline_->on_exec(e);
  EXPECT_TRUE(control_.actions.empty());
  EXPECT_EQ(pipeline_->stats().killed, 0u);
  const json j = last_line();
  EXPECT_EQ(j["decided_by"], "lsm");
  EXPECT_EQ(j["outcome"], "denied");
  EXPECT_EQ(j["errno"], "EPERM");
  EXPECT_EQ(j["rule"], "deny-target");
  EXPECT_EQ(j["flags"], json::array({"lsm_denied"}));
  EXPECT_EQ(j["gaps"], json::array({"argv not recorded: refused inside execve"}));
  EXPECT_EQ(pipeline_->stats().kernel_disagreements, 0u);
}

TEST_F(PipelineTest, MalformedRecordsAreCountedAndDropped) {
  std::vector<std::byte> junk(7, std::byte{0x41});
  pipeline_->on_record(junk);
  EXPECT_EQ(pipeline_->stats().decode_errors, 1u);
  EXPECT_TRUE(lines_.empty());
}

TEST_F(PipelineTest, OrphanedParkedProcessesAreRecoveredOrForgotten) {
  // An entry whose process cannot be read any more is dropped, never signalled.
  parked_.entries[19] = {19, 5, clock_.now, true};
  clock_.now += 5'000'000'000;
  pipeline_->recover_orphans();
  EXPECT_TRUE(parked_.entries.empty());
  EXPECT_TRUE(control_.actions.empty());
}

}  // namespace
}  // namespace cmdgate
