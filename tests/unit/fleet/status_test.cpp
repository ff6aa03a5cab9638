#include "fleet/status.h"

#include <gtest/gtest.h>

#include "fleet/fleet_report.h"

namespace cmdgate::fleet {
namespace {

HostStatus host(std::string name, bool online, std::vector<std::pair<std::string, uint64_t>> gs) {
  HostStatus h;
  h.host = std::move(name);
  h.online = online;
  h.timestamp_unix_ms = 5;
  h.rules = 3;
  for (auto& [g, v] : gs) {
    GroupStatus s;
    s.group = g;
    s.version = v;
    h.groups.push_back(s);
  }
  return h;
}

TEST(StatusMessage, RoundTrips) {
  HostStatus h = host("web-1", true, {{"web", 7}, {"all", 2}});
  h.generation = 4;
  h.groups[0].last_error = "bad signature";
  h.groups[0].rejected = 2;
  h.groups[0].key_id = "0011223344556677";
  h.groups[0].floor = 6;
  h.groups[1].floor_unknown = true;
  auto back = decode_status(encode_status(h), "t");
  ASSERT_TRUE(back) << back.error().message;
  EXPECT_EQ(back->host, "web-1");
  EXPECT_TRUE(back->online);
  EXPECT_EQ(back->generation, 4u);
  ASSERT_EQ(back->groups.size(), 2u);
  EXPECT_EQ(back->groups[0].version, 7u);
  EXPECT_EQ(back->groups[0].last_error, "bad signature");
  EXPECT_EQ(back->groups[0].rejected, 2u);
  EXPECT_EQ(back->groups[0].key_id, "0011223344556677");
  EXPECT_EQ(back->groups[0].floor, 6u);
  EXPECT_FALSE(back->groups[0].floor_unknown);
  EXPECT_TRUE(back->groups[1].floor_unknown);
}

TEST(StatusMessage, MalformedMessagesNameTheTopic) {
  for (const char* bad :
       {"", "[]", "{}", R"({"host": 3})", R"({"host":"h","groups":{}})",
        R"({"host":"h","groups":[{"version":1}]})", R"({"host":"h","online":"yes"})"}) {
    auto r = decode_status(bad, "cmdgate/status/h");
    ASSERT_FALSE(r) << bad;
    EXPECT_TRUE(r.error().message.starts_with("cmdgate/status/h: malformed status"));
  }
}

TEST(FleetReport, StragglersAreHostsBehindTheNewestVersionOrOffline) {
  const std::vector<HostStatus> hosts = {
      host("a", true, {{"web", 7}}), host("b", true, {{"web", 6}}), host("c", false, {{"web", 7}}),
      host("d", true, {{"db", 2}})};
  const FleetReport all = build_report(hosts, {{"web", 7}, {"db", 3}}, std::nullopt);
  EXPECT_FALSE(all.all_current());
  ASSERT_EQ(all.groups.size(), 2u);
  EXPECT_EQ(all.groups[0].group, "db");
  EXPECT_EQ(all.groups[0].newest, 3u);  // pushed, not yet applied anywhere
  EXPECT_EQ(all.groups[0].behind, 1u);
  const GroupSummary& web = all.groups[1];
  EXPECT_EQ(web.newest, 7u);
  EXPECT_EQ(web.hosts, 3u);
  EXPECT_EQ(web.current, 1u);
  EXPECT_EQ(web.behind, 1u);
  EXPECT_EQ(web.offline, 1u);
  ASSERT_EQ(all.rows.size(), 4u);
  EXPECT_EQ(all.rows[0].host, "d");
  EXPECT_TRUE(all.rows[0].behind);
  EXPECT_FALSE(all.rows[1].behind);  // a
  EXPECT_TRUE(all.rows[2].behind);   // b

  const FleetReport web_only =
      build_report({host("a", true, {{"web", 7}})}, {{"web", 7}, {"db", 3}}, "web");
  EXPECT_TRUE(web_only.all_current());
  EXPECT_EQ(web_only.groups.size(), 1u);
}

TEST(FleetReport, AHostAheadOfTheRetainedBundleSetsTheNewestVersion) {
  const FleetReport r = build_report({host("a", true, {{"web", 8}}), host("b", true, {{"web", 7}})},
                                     {{"web", 7}}, std::nullopt);
  EXPECT_EQ(r.groups[0].newest, 8u);
  EXPECT_FALSE(r.all_current());
}

}  // namespace
}  // namespace cmdgate::fleet
