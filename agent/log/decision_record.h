#pragma once
// One line of the decision log: what was executed, by whom, which rule decided, what happened
// and how long it took.

#include <cstdint>
#include <optional>
#include <string>

#include "context/eval_input.h"
#include "pipeline/decider.h"
#include "pipeline/records.h"
#include "protocol/outcome.h"

namespace cmdgate {

struct ApproverInfo;

struct DecisionRecord {
  const ExecEvent* event = nullptr;
  const EvalInput* input = nullptr;  // may be null (failsafe, gone)
  const Judgement* judgement = nullptr;  // may be null (failsafe, gone)
  DecidedBy decided_by = DecidedBy::kDaemon;
  Outcome outcome = Outcome::kAllowed;
  uint64_t latency_ns = 0;  // from the kernel's record to this decision
  uint64_t waited_ns = 0;   // time spent parked (asks)
  std::optional<uint64_t> request_id;
  std::string told;        // the line meant for the process's stderr, if any
  bool told_delivered = false;
  const ApproverInfo* approver = nullptr;
};

}  // namespace cmdgate
