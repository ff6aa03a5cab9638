#include "fleet/succession.h"

namespace cmdgate::fleet {

Result<Succession> judge_succession(const GroupHistory& history, const VerifiedBundle& next) {
  const Bundle& b = next.bundle;
  const Floor& floor = history.floor;
  if (!floor.unknown.empty()) {
    return Error::format(
        "the rollback floor of group '{}' is unknown ({}): every bundle is refused until an "
        "operator runs cmdgated --reset-fleet-floor {}",
        b.group, floor.unknown, b.group);
  }
  if (history.in_force && history.in_force->payload == next.payload) {
    return Succession::kUnchanged;
  }
  if (b.created_unix_ms <= floor.created_floor_unix_ms) {
    return Error::format(
        "version {} was created at {} ms, not after the rollback accepted earlier (created at {} "
        "ms): it belongs to the sequence that rollback abandoned",
        b.version, b.created_unix_ms, floor.created_floor_unix_ms);
  }
  const uint64_t highest = floor.version;
  if (highest == 0 || b.version > highest) {
    return Succession::kNewer;
  }
  const bool in_force =
      history.in_force && history.in_force->bundle.version == highest;
  const std::string where = in_force ? fmt::format("version {} in force", highest)
                                     : fmt::format("version {}, the highest accepted (the "
                                                   "rollback floor; not in force)",
                                                   highest);
  if (!b.rollback) {
    if (b.version == highest) {
      if (!in_force && payload_sha256(next.payload) == floor.payload_sha256) {
        return Succession::kRecovered;
      }
      return Error::format(
          "version {} is already {} with different content; a version number must not be "
          "reused",
          b.version, in_force ? "in force" : "accepted (the rollback floor)");
    }
    return Error::format(
        "version {} is older than {}: rollback refused (going back needs a bundle signed with an "
        "explicit rollback marker)",
        b.version, where);
  }
  if (b.rollback->from_version < highest) {
    return Error::format(
        "rollback marker undoes versions up to {}, but {}", b.rollback->from_version,
        in_force ? fmt::format("version {} is in force", highest)
                 : fmt::format("version {} was accepted (the rollback floor)", highest));
  }
  return Succession::kRollback;
}

void record_applied(GroupHistory& history, VerifiedBundle next) {
  Floor& floor = history.floor;
  floor.version = next.bundle.version;
  floor.key_id = next.key_id;
  floor.payload_sha256 = payload_sha256(next.payload);
  if (next.bundle.rollback) {
    floor.created_floor_unix_ms = next.bundle.created_unix_ms;
  }
  history.in_force = std::move(next);
}

}  // namespace cmdgate::fleet
