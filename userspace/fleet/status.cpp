#include "fleet/status.h"

#include <chrono>
#include <nlohmann/json.hpp>

namespace cmdgate::fleet {
namespace {

using nlohmann::json;

template <typename T>
bool read(const json& j, const char* key, T& out) {
  auto it = j.find(key);
  if (it == j.end()) {
    return true;  // optional
  }
  if constexpr (std::is_same_v<T, std::string>) {
    if (!it->is_string()) {
      return false;
    }
  } else if constexpr (std::is_same_v<T, bool>) {
    if (!it->is_boolean()) {
      return false;
    }
  } else {
    if (!it->is_number_unsigned()) {
      return false;
    }
  }
  out = it->get<T>();
  return true;
}

}  // namespace

uint64_t now_unix_ms() {
  return static_cast<uint64_t>(std::chrono::duration_cast<std::chrono::milliseconds>(
                                   std::chrono::system_clock::now().time_since_epoch())
                                   .count());
}

std::string encode_status(const HostStatus& s) {
  json groups = json::array();
  for (const auto& g : s.groups) {
    groups.push_back({{"group", g.group},
                      {"version", g.version},
                      {"key_id", g.key_id},
                      {"floor", g.floor},
                      {"floor_unknown", g.floor_unknown},
                      {"saved_bundle_error", g.saved_bundle_error},
                      {"applied_unix_ms", g.applied_unix_ms},
                      {"rejected", g.rejected},
                      {"last_error", g.last_error},
                      {"last_error_unix_ms", g.last_error_unix_ms}});
  }
  json j = {
      {"host", s.host},   {"online", s.online},         {"timestamp_unix_ms", s.timestamp_unix_ms},
      {"rules", s.rules}, {"generation", s.generation}, {"groups", std::move(groups)}};
  return j.dump(-1, ' ', false, json::error_handler_t::replace);
}

Result<HostStatus> decode_status(std::string_view text, std::string_view origin) {
  const json j = json::parse(text, nullptr, /*allow_exceptions=*/false);
  const auto bad = [&](std::string_view why) {
    return Error::format("{}: malformed status: {}", origin, why);
  };
  if (j.is_discarded() || !j.is_object()) {
    return bad("not a JSON object");
  }
  HostStatus s;
  if (!read(j, "host", s.host) || s.host.empty()) {
    return bad("'host' must be a non-empty string");
  }
  if (!read(j, "online", s.online) || !read(j, "timestamp_unix_ms", s.timestamp_unix_ms) ||
      !read(j, "rules", s.rules) || !read(j, "generation", s.generation)) {
    return bad("a field has the wrong type");
  }
  auto groups = j.find("groups");
  if (groups != j.end()) {
    if (!groups->is_array()) {
      return bad("'groups' must be an array");
    }
    for (const auto& g : *groups) {
      GroupStatus gs;
      if (!g.is_object() || !read(g, "group", gs.group) || gs.group.empty() ||
          !read(g, "version", gs.version) || !read(g, "key_id", gs.key_id) ||
          !read(g, "floor", gs.floor) || !read(g, "floor_unknown", gs.floor_unknown) ||
          !read(g, "saved_bundle_error", gs.saved_bundle_error) ||
          !read(g, "applied_unix_ms", gs.applied_unix_ms) || !read(g, "rejected", gs.rejected) ||
          !read(g, "last_error", gs.last_error) ||
          !read(g, "last_error_unix_ms", gs.last_error_unix_ms)) {
        return bad("a 'groups' entry is malformed");
      }
      s.groups.push_back(std::move(gs));
    }
  }
  return s;
}

}  // namespace cmdgate::fleet
