#include "fleet/succession.h"

namespace cmdgate::fleet {

Result<Succession> judge_succession(const GroupHistory& history, const VerifiedBundle& next) {
  const Bundle& b = next.bundle;
  if (history.in_force && history.in_force->payload == next.payload) {
    return Succession::kUnchanged;
  }
  if (b.created_unix_ms <= history.created_floor_unix_ms) {
    return Error::format(
        "version {} was created at {} ms, not after the rollback accepted earlier (created at {} "
        "ms): it belongs to the sequence that rollback abandoned",
        b.version, b.created_unix_ms, history.created_floor_unix_ms);
  }
  if (!history.in_force) {
    return Succession::kNewer;
  }
  const uint64_t current = history.in_force->bundle.version;
  if (b.version > current) {
    return Succession::kNewer;
  }
  if (!b.rollback) {
    if (b.version == current) {
      return Error::format(
          "version {} is already in force with different content; a version number must not be "
          "reused",
          b.version);
    }
    return Error::format(
        "version {} is older than version {} in force: rollback refused (going back needs a "
        "bundle signed with an explicit rollback marker)",
        b.version, current);
  }
  if (b.rollback->from_version < current) {
    return Error::format("rollback marker undoes versions up to {}, but version {} is in force",
                         b.rollback->from_version, current);
  }
  return Succession::kRollback;
}

void record_applied(GroupHistory& history, VerifiedBundle next) {
  if (next.bundle.rollback) {
    history.created_floor_unix_ms = next.bundle.created_unix_ms;
  }
  history.in_force = std::move(next);
}

}  // namespace cmdgate::fleet
