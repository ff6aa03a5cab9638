#pragma once
// The agent's memory across restarts, up to three files per group in the state directory:
//   <group>.floor     the rollback floor (fleet/floor.h): highest version accepted, its signer and
//                     payload digest, the time of the last accepted rollback. Written first,
//                     before the bundle, and read on its own: it holds when the bundle does not.
//   <group>.bundle    the bundle in force (the envelope exactly as received), the last-known-good
//   <group>.rollback  the last rollback bundle accepted
// The bundles are signed artifacts, verified again on restore like anything off the wire; the
// floor record is the agent's own, protected like them by ownership and mode (secure_file.h).
// Every file is replaced atomically (write, fsync, rename, fsync of the directory).

#include <string>
#include <vector>

#include "common/result.h"
#include "fleet/bundle.h"
#include "fleet/keys.h"
#include "fleet/succession.h"

namespace cmdgate::fleet {

// What restore() could establish for a group, and what it could not.
struct Restored {
  GroupHistory history;
  std::vector<std::string> problems;  // each file that could not be used, and why
  bool floor_recorded = false;        // the floor came from its record (not only derived)
};

class BundleState {
 public:
  BundleState(std::string dir, size_t max_bundle_bytes)
      : dir_(std::move(dir)), max_bytes_(max_bundle_bytes) {}

  // Creates the directory (0700) if needed.
  [[nodiscard]] Status prepare() const;
  // After `bundle` was applied: the floor record first, then <group>.rollback for a rollback,
  // then <group>.bundle. A crash in between leaves a floor at least as high as the bundle saved.
  [[nodiscard]] Status save(const std::string& group, const VerifiedBundle& bundle,
                            const Floor& floor) const;
  [[nodiscard]] Status save_floor(const std::string& group, const Floor& floor) const;
  // What was saved for the group, bundles verified against today's trusted keys. Never fails as
  // a whole: a file that cannot be used is a problem naming it. The floor is the higher of its
  // record and the saved bundles; it is unknown (Floor::unknown) when its record is unreadable,
  // or when it has no record and a saved bundle is unreadable.
  [[nodiscard]] Restored restore(const std::string& group, const TrustedKeys& keys) const;
  // Forgets the group (floor, rollback and bundle): cmdgated --reset-fleet-floor. Returns the
  // files removed.
  [[nodiscard]] Result<std::vector<std::string>> reset(const std::string& group) const;

  [[nodiscard]] std::string bundle_path(const std::string& group) const;
  [[nodiscard]] std::string rollback_path(const std::string& group) const;
  [[nodiscard]] std::string floor_path(const std::string& group) const;

 private:
  [[nodiscard]] Result<std::optional<VerifiedBundle>> load(const std::string& path,
                                                           const std::string& group,
                                                           const TrustedKeys& keys) const;
  [[nodiscard]] Result<std::optional<Floor>> load_floor(const std::string& group) const;
  std::string dir_;
  size_t max_bytes_;
};

}  // namespace cmdgate::fleet
