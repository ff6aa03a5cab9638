#pragma once
// decide(): a pure function of one exec, its evaluation inputs and a policy snapshot. It says
// what the policy concludes and what must be done to the process; it does nothing itself.

#include <chrono>
#include <optional>

#include "context/eval_input.h"
#include "pipeline/records.h"
#include "rules/policy.h"

namespace cmdgate {

enum class Response : uint8_t {
  kNone,    // the kernel already did what the policy says (allowed, audited or killed)
  kResume,  // parked: let it run
  kKill,    // parked or slipped through: kill it
  kPark,    // parked: keep it parked until someone decides or the deadline passes
};

const char* to_string(Response r);

struct Judgement {
  rules::Decision decision;  // the one that counts (script chain, loaded program, executed file)
  std::optional<rules::Decision> interpreter;  // the executed file alone, when it stands for others
  Response response = Response::kNone;
  std::chrono::milliseconds ask_timeout{0};
  rules::Action timeout_action = rules::Action::kDeny;
  // The kernel took an exact verdict that this evaluation contradicts (a policy-compiler bug or
  // an exec decided with an older policy whose snapshot is gone).
  bool kernel_disagrees = false;
};

[[nodiscard]] Judgement decide(const ExecEvent& e, const EvalInput& in, const rules::Policy& policy);

}  // namespace cmdgate
