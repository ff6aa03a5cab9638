#pragma once
// What each agent publishes, retained, on cmdgate/status/<host>: one JSON object, replaced on
// every change; its last will (and its clean shutdown) publishes the same with online = false.

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "common/result.h"

namespace cmdgate::fleet {

struct GroupStatus {
  std::string group;
  uint64_t version = 0;  // applied; 0: none yet
  std::string key_id;    // signer of the applied bundle
  uint64_t floor = 0;    // the rollback floor: no bundle below it is accepted (fleet/floor.h)
  // The floor record could not be read: `floor` means nothing and every bundle is refused until
  // an operator runs cmdgated --reset-fleet-floor.
  bool floor_unknown = false;
  // Why a saved bundle (or the floor record) was not used at start; empty once a bundle applies.
  std::string saved_bundle_error;
  uint64_t applied_unix_ms = 0;
  uint64_t rejected = 0;   // bundles refused since the agent started
  std::string last_error;  // why the last refused bundle was refused; empty after a success
  uint64_t last_error_unix_ms = 0;
};

struct HostStatus {
  std::string host;
  bool online = false;
  uint64_t timestamp_unix_ms = 0;  // when this status was published
  uint64_t rules = 0;              // rules in the policy in force (pushed and local)
  uint32_t generation = 0;         // policy generation in force
  std::vector<GroupStatus> groups;
};

[[nodiscard]] std::string encode_status(const HostStatus& status);
// `origin` (the topic) names the message in errors.
[[nodiscard]] Result<HostStatus> decode_status(std::string_view json, std::string_view origin);

[[nodiscard]] uint64_t now_unix_ms();

}  // namespace cmdgate::fleet
