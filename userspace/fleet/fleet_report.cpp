#include "fleet/fleet_report.h"

#include <algorithm>

namespace cmdgate::fleet {

bool FleetReport::all_current() const {
  return std::all_of(rows.begin(), rows.end(),
                     [](const HostRow& r) { return r.online && !r.behind; });
}

FleetReport build_report(const std::vector<HostStatus>& hosts,
                         const std::map<std::string, uint64_t>& pushed,
                         const std::optional<std::string>& only_group) {
  std::map<std::string, GroupSummary> groups;
  const auto wanted = [&](const std::string& g) { return !only_group || *only_group == g; };
  for (const auto& [g, v] : pushed) {
    if (wanted(g)) {
      groups[g].pushed = v;
    }
  }
  FleetReport report;
  for (const auto& h : hosts) {
    for (const auto& gs : h.groups) {
      if (!wanted(gs.group)) {
        continue;
      }
      report.rows.push_back({h.host, gs.group, h.online, gs.version, gs.key_id, h.rules,
                             gs.rejected, gs.last_error, h.timestamp_unix_ms, false, gs.floor,
                             gs.floor_unknown, gs.saved_bundle_error});
    }
  }
  for (const auto& r : report.rows) {
    auto& g = groups[r.group];
    g.newest = std::max(g.newest, r.version);
  }
  for (auto& [name, g] : groups) {
    g.group = name;
    g.newest = std::max(g.newest, g.pushed);
  }
  for (auto& r : report.rows) {
    auto& g = groups[r.group];
    r.behind = r.version < g.newest;
    ++g.hosts;
    g.behind += r.behind ? 1 : 0;
    g.offline += r.online ? 0 : 1;
    g.current += r.online && !r.behind ? 1 : 0;
  }
  std::sort(report.rows.begin(), report.rows.end(), [](const HostRow& a, const HostRow& b) {
    return std::tie(a.group, a.host) < std::tie(b.group, b.host);
  });
  for (auto& [name, g] : groups) {
    report.groups.push_back(std::move(g));
  }
  return report;
}

}  // namespace cmdgate::fleet
