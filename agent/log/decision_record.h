#pragma once
// One line of the decision log: what was executed, by whom, which rule decided, what happened
// and how long it took.

#include <cstdint>
#include <optional>
#include <string>

#include "context/eval_input.h"
#include "pipeline/decider.h"
#include "pipeline/records.h"

namespace cmdgate {

// Who or what settled the outcome.
enum class DecidedBy : uint8_t {
  kKernel,    // in-kernel verdict (deny/audit), the daemon only explains it
  kLsm,       // the BPF LSM refused the exec inside execve (EPERM)
  kDaemon,    // the daemon evaluated a parked exec
  kFailsafe,  // the delivery-failure policy (record lost, daemon stale)
  kTimeout,   // an ask whose deadline passed
  kShutdown,  // released when the daemon stopped
  kGone,      // the process went away before a verdict
  kApprover,  // a person, through the approval socket
  kGrant,     // an earlier "allow for N minutes" approval
  kNoApprover,  // nobody was there to ask: the timeout action at once
  kEscape,      // someone else made a parked process run (SIGCONT, ptrace): killed
  kUnsafePark,  // an ask where parking is not escape-proof ([approval] unsafe_park = "deny")
};

struct ApproverInfo;

const char* to_string(DecidedBy d);

struct DecisionRecord {
  const ExecEvent* event = nullptr;
  const EvalInput* input = nullptr;  // may be null (failsafe, gone)
  const Judgement* judgement = nullptr;  // may be null (failsafe, gone)
  DecidedBy decided_by = DecidedBy::kDaemon;
  std::string outcome;  // allowed, denied, parked, would_deny, would_ask, killed, ...
  uint64_t latency_ns = 0;  // from the kernel's record to this decision
  uint64_t waited_ns = 0;   // time spent parked (asks)
  std::optional<uint64_t> request_id;
  std::string told;        // the line meant for the process's stderr, if any
  bool told_delivered = false;
  const ApproverInfo* approver = nullptr;
};

}  // namespace cmdgate
