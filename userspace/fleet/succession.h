#pragma once
// Whether a verified bundle may replace the one in force for its group: the rollback protection
// of docs/fleet.md, as a pure function so it is tested without a broker.

#include <cstdint>
#include <optional>

#include "common/result.h"
#include "fleet/bundle.h"

namespace cmdgate::fleet {

// What an agent remembers about one group.
struct GroupHistory {
  std::optional<VerifiedBundle> in_force;
  // Set when a rollback was accepted: its created-at time. Every bundle created at or before it
  // belongs to the sequence the rollback abandoned and is refused, whatever its version.
  uint64_t created_floor_unix_ms = 0;
};

enum class Succession {
  kNewer,      // a higher version: apply
  kRollback,   // a lower (or equal) version with a rollback marker covering the one in force
  kUnchanged,  // the very payload in force (a redelivered retained message): nothing to do
};

// Error: why `next` must not replace what is in force (older version, reused version number,
// rollback marker that does not cover the version in force, created before an accepted rollback).
[[nodiscard]] Result<Succession> judge_succession(const GroupHistory& history,
                                                  const VerifiedBundle& next);

// The history after `next` was applied.
void record_applied(GroupHistory& history, VerifiedBundle next);

}  // namespace cmdgate::fleet
