#include "fleet/fleet_config.h"

#include <set>

#include "fleet/names.h"

namespace cmdgate::fleet {

Status validate(const FleetConfig& c) {
  const auto bad = [](std::string_view why) { return Error::format("fleet: {}", why); };
  if (auto s = check_broker_access(c.access(), Spelling::kConfig); !s) {
    return bad(s.error().message);
  }
  if (c.groups.empty()) {
    return bad("a broker is set but no groups: set fleet.groups");
  }
  std::set<std::string_view> seen;
  for (const auto& g : c.groups) {
    if (auto s = check_name(g, "group"); !s) {
      return bad(s.error().message);
    }
    if (!seen.insert(g).second) {
      return bad(fmt::format("group '{}' is listed twice", g));
    }
  }
  if (!c.host_id.empty()) {
    if (auto s = check_name(c.host_id, "host id"); !s) {
      return bad(s.error().message);
    }
  }
  if (c.keepalive < std::chrono::seconds(5) || c.keepalive > std::chrono::hours(18)) {
    return bad("keepalive must be from 5s to 18h");
  }
  if (c.reconnect_min > c.reconnect_max) {
    return bad("reconnect_min is above reconnect_max");
  }
  if (c.max_bundle_bytes < 1024) {
    return bad("max_bundle_size must be at least 1024");
  }
  return {};
}

}  // namespace cmdgate::fleet
