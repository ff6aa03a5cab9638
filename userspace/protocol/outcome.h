#pragma once
// What happened to an exec and who settled it, with the one spelling of each that the decision
// log, the journal, metrics, the approval socket and the CLI use.

#include <cstdint>
#include <optional>
#include <string_view>

namespace cmdgate {

enum class Outcome : uint8_t {
  kAllowed,    // it ran (allowed by a rule or the default, or approved)
  kAudited,    // it ran, and an audit rule asked for the record
  kDenied,     // refused: killed by the daemon before its first instruction, or EPERM in execve
  kKilled,     // killed by the kernel before its first instruction
  kParked,     // stopped before its first instruction, waiting for a person
  kWouldDeny,  // monitor mode: a deny rule matched, it ran
  kWouldAsk,   // monitor mode: an ask rule matched, it ran
  kGone,       // the process went away before a verdict
};

// Who or what settled the outcome.
enum class DecidedBy : uint8_t {
  kKernel,      // in-kernel verdict (deny/audit), the daemon only explains it
  kLsm,         // the BPF LSM refused the exec inside execve (EPERM)
  kDaemon,      // the daemon evaluated a parked exec
  kFailsafe,    // the delivery-failure policy (record lost, daemon stale)
  kTimeout,     // an ask whose deadline passed
  kShutdown,    // released when the daemon stopped
  kGone,        // the process went away before a verdict
  kApprover,    // a person, through the approval socket
  kGrant,       // an earlier "allow for N minutes" approval
  kNoApprover,  // nobody was there to ask: the timeout action at once
  kEscape,      // someone else made a parked process run (SIGCONT, ptrace): killed
  kUnsafePark,  // an ask where parking is not escape-proof ([approval] unsafe_park = "deny")
};

[[nodiscard]] std::string_view to_string(Outcome o);
[[nodiscard]] std::string_view to_string(DecidedBy d);
[[nodiscard]] std::optional<Outcome> outcome_from_string(std::string_view name);

// The process did not get to run (for a log's priority, a terminal's colour).
[[nodiscard]] constexpr bool refused(Outcome o) {
  return o == Outcome::kDenied || o == Outcome::kKilled;
}
// It is held, or would have been refused or held in enforce mode.
[[nodiscard]] constexpr bool held_or_would_be(Outcome o) {
  return o == Outcome::kParked || o == Outcome::kWouldDeny || o == Outcome::kWouldAsk;
}

}  // namespace cmdgate
