#pragma once
// Parked processes waiting for a decision. Each has a deadline and leaves the table exactly once
// (take*), so exactly one verdict is ever applied to it.

#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <vector>

#include "context/exec_files.h"
#include "kernel/process_control.h"
#include "pipeline/decider.h"
#include "pipeline/records.h"

namespace cmdgate {

using SteadyTime = std::chrono::steady_clock::time_point;

struct DisplayAncestor {
  uint32_t pid = 0;
  std::string comm;
  std::string exe;
};

struct PendingRequest {
  uint64_t id = 0;
  ProcessHandle process;
  ExecEvent event;
  std::shared_ptr<const rules::Policy> policy;  // keeps judgement.decision.rule alive
  Judgement judgement;
  SteadyTime deadline;
  // What an approver is shown.
  std::vector<std::string> argv;  // in full, even when the record cut it
  bool argv_cut = false;          // not even /proc had all of it
  std::string cwd;
  std::string script_path;
  std::vector<FileFact> scripts;  // the #! chain, the script execve named first
  std::optional<rules::Sha256> exe_sha256;  // when the policy needed it
  std::vector<DisplayAncestor> lineage;
  int64_t parked_unix_ms = 0;
  int64_t deadline_unix_ms = 0;
};

class PendingTable {
 public:
  uint64_t add(PendingRequest r);
  [[nodiscard]] const PendingRequest* find(uint64_t id) const;
  [[nodiscard]] std::optional<PendingRequest> take(uint64_t id);
  [[nodiscard]] std::optional<PendingRequest> take_exec(uint32_t tgid, uint64_t exec_id);
  [[nodiscard]] std::vector<PendingRequest> take_expired(SteadyTime now);
  [[nodiscard]] std::vector<PendingRequest> take_all();
  [[nodiscard]] bool contains_exec(uint32_t tgid, uint64_t exec_id) const;
  [[nodiscard]] std::optional<SteadyTime> next_deadline() const;
  [[nodiscard]] size_t size() const { return by_id_.size(); }
  [[nodiscard]] std::vector<const PendingRequest*> list() const;

 private:
  uint64_t next_id_ = 1;
  std::map<uint64_t, PendingRequest> by_id_;
  std::multimap<SteadyTime, uint64_t> by_deadline_;
  std::map<std::pair<uint32_t, uint64_t>, uint64_t> by_exec_;
};

}  // namespace cmdgate
