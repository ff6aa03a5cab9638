#pragma once
// The agent's memory across restarts, one pair of files per group in the state directory:
//   <group>.bundle    the bundle in force (the envelope exactly as received), the last-known-good
//   <group>.rollback  the last rollback bundle accepted: its created-at time is the floor below
//                     which bundles belong to an abandoned sequence (fleet/succession.h)
// Both are signed artifacts: they are verified again on restore, like anything off the wire.

#include <string>

#include "common/result.h"
#include "fleet/bundle.h"
#include "fleet/keys.h"
#include "fleet/succession.h"

namespace cmdgate::fleet {

class BundleState {
 public:
  BundleState(std::string dir, size_t max_bundle_bytes)
      : dir_(std::move(dir)), max_bytes_(max_bundle_bytes) {}

  // Creates the directory (0700) if needed.
  [[nodiscard]] Status prepare() const;
  // Atomically replaces <group>.bundle (and <group>.rollback first, for a rollback).
  [[nodiscard]] Status save(const std::string& group, const VerifiedBundle& bundle) const;
  // What was saved for the group, verified against today's trusted keys. A missing file is no
  // history; a file that no longer verifies is an error naming it (the caller starts without it).
  [[nodiscard]] Result<GroupHistory> restore(const std::string& group,
                                             const TrustedKeys& keys) const;

  [[nodiscard]] std::string bundle_path(const std::string& group) const;
  [[nodiscard]] std::string rollback_path(const std::string& group) const;

 private:
  [[nodiscard]] Result<std::optional<VerifiedBundle>> load(const std::string& path,
                                                           const std::string& group,
                                                           const TrustedKeys& keys) const;
  std::string dir_;
  size_t max_bytes_;
};

}  // namespace cmdgate::fleet
