#pragma once
// Whether a verified bundle may replace the one in force for its group: the rollback protection
// of docs/fleet.md, as a pure function so it is tested without a broker.

#include <cstdint>
#include <optional>

#include "common/result.h"
#include "fleet/bundle.h"
#include "fleet/floor.h"

namespace cmdgate::fleet {

// What an agent remembers about one group.
struct GroupHistory {
  // None when nothing was accepted, or when the saved bundle could not be restored or combined:
  // the floor still holds.
  std::optional<VerifiedBundle> in_force;
  Floor floor;
};

enum class Succession {
  kNewer,      // a higher version: apply
  kRollback,   // a lower (or equal) version with a rollback marker covering the one in force
  kUnchanged,  // the very payload in force (a redelivered retained message): nothing to do
  kRecovered,  // the very payload the floor records, not in force (its saved copy was lost)
};

// Error: why `next` must not replace what is in force (older version than the floor, reused
// version number, rollback marker that does not cover the floor, created before an accepted
// rollback, a floor that is unknown). Versions are judged against the floor, never against the
// bundle in force alone: with nothing in force, the floor still refuses what it refused.
[[nodiscard]] Result<Succession> judge_succession(const GroupHistory& history,
                                                  const VerifiedBundle& next);

// The history after `next` was applied: in force, and the floor raised to it (or lowered to it
// by a rollback).
void record_applied(GroupHistory& history, VerifiedBundle next);

}  // namespace cmdgate::fleet
