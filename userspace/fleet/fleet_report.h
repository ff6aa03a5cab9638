#pragma once
// `cmdgate fleet status`: from the hosts' retained status messages and the retained bundles,
// which hosts are on the newest version of each group, which lag behind, which are offline.

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "fleet/status.h"

namespace cmdgate::fleet {

struct HostRow {
  std::string host;
  std::string group;
  bool online = false;
  uint64_t version = 0;
  std::string key_id;  // signer of the applied bundle
  uint64_t rules = 0;
  uint64_t rejected = 0;
  std::string last_error;
  uint64_t timestamp_unix_ms = 0;
  bool behind = false;  // not on the group's newest version
  uint64_t floor = 0;   // the host's rollback floor for the group
  bool floor_unknown = false;  // its floor record is unreadable: every bundle is refused
  std::string saved_bundle_error;  // why its saved bundle was not used at start
};

struct GroupSummary {
  std::string group;
  uint64_t pushed = 0;  // version of the retained bundle on the broker; 0: none
  uint64_t newest = 0;  // the highest of `pushed` and every host's applied version
  size_t hosts = 0;
  size_t current = 0;  // online and on `newest`
  size_t behind = 0;   // on an older version (online or not)
  size_t offline = 0;
};

struct FleetReport {
  std::vector<GroupSummary> groups;  // by name
  std::vector<HostRow> rows;         // by group, then host
  // Every host online and on its group's newest version.
  [[nodiscard]] bool all_current() const;
};

// pushed: group -> version of its retained bundle. With `only_group`, other groups are left out.
[[nodiscard]] FleetReport build_report(const std::vector<HostStatus>& hosts,
                                       const std::map<std::string, uint64_t>& pushed,
                                       const std::optional<std::string>& only_group);

}  // namespace cmdgate::fleet
