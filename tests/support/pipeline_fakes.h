#pragma once
// An ExecPipeline on fakes of the kernel's seams (/proc, the parked map, resume and kill), for
// unit tests of the pipeline and of what drives it. Processes are only pretended to: nothing is
// ever signalled.

#include <gmock/gmock.h>

#include <cstdint>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "pipeline/exec_pipeline.h"
#include "policy/policy_store.h"

namespace cmdgate::test {

class FakeClock final : public Clock {
 public:
  uint64_t monotonic_ns() const override { return now; }
  uint64_t now = 1'000'000'000;
};

class FakeProcFs final : public ProcFs {
 public:
  Result<std::string> read(uint32_t pid, std::string_view entry, size_t) const override;
  Result<std::string> read_link(uint32_t pid, std::string_view entry) const override;
  Result<Fd> open(uint32_t, std::string_view) const override { return Error{"no file"}; }

  std::map<std::pair<uint32_t, std::string>, std::string> files;
  std::map<std::pair<uint32_t, std::string>, std::string> links;
};

class FakeParked final : public ParkedStore {
 public:
  std::optional<ParkedEntry> lookup(uint32_t tgid) const override;
  bool erase(uint32_t tgid, uint64_t exec_id) override;
  std::vector<ParkedEntry> list() const override;

  std::map<uint32_t, ParkedEntry> entries;
};

// Records what was done to which process; refuses to pin what is not parked.
class FakeControl final : public ProcessControl {
 public:
  explicit FakeControl(FakeParked& parked) : parked_(parked) {}
  Result<ProcessHandle> pin(uint32_t tgid, uint64_t exec_id) override;
  Status resume(ProcessHandle& p) override;
  Status kill(ProcessHandle& p) override;

  std::vector<std::string> actions;  // "resume 10", "kill 11"

 private:
  FakeParked& parked_;
};

class MockLearner : public Learner {
 public:
  MOCK_METHOD(void, learn, (const rules::FileId&, int64_t, uint32_t, rules::InodeVerdict, uint32_t),
              (override));
};

// One file known by path: the target every test exec runs.
class FakeFiles final : public rules::FileResolver {
 public:
  std::optional<rules::FileId> identity(const std::string& path) const override;
  std::string canonical(const std::string& path) const override { return path; }
  std::vector<std::string> expand(const std::string&) const override { return {}; }
};

class NoNames final : public rules::NameResolver {
 public:
  std::optional<uint32_t> uid(const std::string&) const override { return std::nullopt; }
  std::optional<uint32_t> gid(const std::string&) const override { return std::nullopt; }
};

// Files established at once: argv as recorded, the executable's digest when one is set.
class ImmediateFiles final : public FileFacts {
 public:
  void establish(const ExecEvent& e, uint32_t, const std::vector<rules::HeldTool>&,
                 Done done) override;

  std::optional<rules::Sha256> exe_sha256;
};

// An exec record laid out as exec.bpf.c writes it into the ring buffer.
struct RecordSpec {
  std::string path = "/usr/bin/target";
  std::vector<std::string> argv;
  uint32_t tgid = 1000;
  uint64_t exec_id = 123;
  uint32_t flags = 0;
  uint8_t verdict = 3;  // CG_VERDICT_EVALUATE
  uint32_t generation = 0;
  uint32_t loginuid = UINT32_MAX;  // the kernel's "never set"
  uint32_t sessionid = UINT32_MAX;
};
[[nodiscard]] std::vector<std::byte> exec_record_bytes(const RecordSpec& spec);

inline constexpr const char* kTargetPath = "/usr/bin/target";
inline constexpr rules::FileId kTargetId{1, 100};

// The pipeline with every seam above, judging by `policies`; its decision log kept in `lines`.
struct PipelineOnFakes {
  // writer: where the decision log goes; none keeps it in `lines`.
  explicit PipelineOnFakes(const PolicyStore& policies, PipelineOptions options = {},
                           std::unique_ptr<LineWriter> writer = nullptr);

  // The kernel's record of tgid executing kTargetPath with argv, parked for the daemon.
  ExecEvent parked_exec(uint32_t tgid, std::vector<std::string> argv);
  nlohmann::json last_line() const { return nlohmann::json::parse(lines.back()); }

  const PolicyStore& policies;
  FakeClock clock;
  FakeProcFs proc;
  FakeParked parked;
  FakeControl control{parked};
  ::testing::NiceMock<MockLearner> learner;
  ImmediateFiles files;
  std::vector<std::string> lines;
  ExePathCache exe_paths{proc};
  ContextBuilder contexts{proc, exe_paths};
  DecisionLog log;
  ExecPipeline pipeline;
  uint64_t next_exec_id = 1000;
};

}  // namespace cmdgate::test
