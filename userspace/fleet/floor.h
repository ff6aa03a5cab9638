#pragma once
// The rollback floor of one group: the highest version the agent ever accepted (and who signed
// it), which only an accepted signed rollback or an operator on the host lowers. It is kept in
// its own record, apart from the bundle, so that a saved bundle that no longer restores or no
// longer combines with the local rules never makes an older bundle acceptable again.

#include <cstdint>
#include <string>
#include <string_view>

#include "common/result.h"

namespace cmdgate::fleet {

struct Floor {
  uint64_t version = 0;        // 0: nothing accepted yet
  std::string key_id;          // signer of that version
  std::string payload_sha256;  // hex: that very version may come back (its saved copy was lost)
  // Set when a rollback was accepted: its created-at time. Every bundle created at or before it
  // belongs to the sequence the rollback abandoned and is refused, whatever its version.
  uint64_t created_floor_unix_ms = 0;
  // A record exists but cannot be read: what it said is unknown, so every bundle is refused
  // until an operator resets the floor (cmdgated --reset-fleet-floor GROUP).
  std::string unknown;

  friend bool operator==(const Floor&, const Floor&) = default;
};

// Hex SHA-256 of a bundle's payload.
[[nodiscard]] std::string payload_sha256(std::string_view payload);

[[nodiscard]] std::string encode_floor(const Floor& floor);
// `origin` (the file) names the record in errors.
[[nodiscard]] Result<Floor> decode_floor(std::string_view text, std::string_view origin);

// The higher of two floors: the one with the higher version, and the later rollback time.
[[nodiscard]] Floor higher_floor(const Floor& a, const Floor& b);

}  // namespace cmdgate::fleet
