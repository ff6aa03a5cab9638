#include "fleet/succession.h"

#include <gtest/gtest.h>

#include "fleet_test_util.h"

namespace cmdgate::fleet {
namespace {

using testing::make_bundle;

class SuccessionTest : public ::testing::Test {
 protected:
  VerifiedBundle v(uint64_t version, uint64_t created, std::optional<RollbackMarker> rb = {},
                   std::string comment = "") {
    Bundle b = make_bundle("web", version, created);
    b.rollback = std::move(rb);
    b.comment = std::move(comment);
    return testing::verified(b, key_);
  }
  SecretKey key_ = generate_secret_key();
  GroupHistory h_;
};

TEST_F(SuccessionTest, FirstBundleAndHigherVersionsAreNewer) {
  auto first = judge_succession(h_, v(5, 100));
  ASSERT_TRUE(first);
  EXPECT_EQ(*first, Succession::kNewer);
  record_applied(h_, v(5, 100));
  auto next = judge_succession(h_, v(6, 50));  // created-at alone never orders versions
  ASSERT_TRUE(next);
  EXPECT_EQ(*next, Succession::kNewer);
}

TEST_F(SuccessionTest, RedeliveryIsUnchangedAndAReusedVersionIsRefused) {
  record_applied(h_, v(5, 100));
  auto same = judge_succession(h_, v(5, 100));
  ASSERT_TRUE(same);
  EXPECT_EQ(*same, Succession::kUnchanged);
  auto reused = judge_succession(h_, v(5, 100, {}, "other content"));
  ASSERT_FALSE(reused);
  EXPECT_EQ(reused.error().message,
            "version 5 is already in force with different content; a version number must not "
            "be reused");
}

TEST_F(SuccessionTest, OlderVersionIsRefusedWithoutAMarker) {
  record_applied(h_, v(5, 100));
  auto old = judge_succession(h_, v(4, 90));
  ASSERT_FALSE(old);
  EXPECT_EQ(old.error().message,
            "version 4 is older than version 5 in force: rollback refused (going back needs a "
            "bundle signed with an explicit rollback marker)");
}

TEST_F(SuccessionTest, RollbackMarkerMustCoverTheVersionInForce) {
  record_applied(h_, v(5, 100));
  auto short_marker = judge_succession(h_, v(3, 200, RollbackMarker{4, "x"}));
  ASSERT_FALSE(short_marker);
  EXPECT_EQ(short_marker.error().message,
            "rollback marker undoes versions up to 4, but version 5 is in force");
  auto covering = judge_succession(h_, v(3, 200, RollbackMarker{5, "x"}));
  ASSERT_TRUE(covering);
  EXPECT_EQ(*covering, Succession::kRollback);
}

// After a rollback from 9 to 3, the abandoned bundles 4..9 (created before the rollback) must not
// come back by replay, while new bundles 4, 5, ... signed after it are accepted.
TEST_F(SuccessionTest, AcceptedRollbackAbandonsEverythingCreatedBeforeIt) {
  record_applied(h_, v(9, 900));
  const VerifiedBundle rb = v(3, 1000, RollbackMarker{9, "undo 4..9"});
  ASSERT_EQ(*judge_succession(h_, rb), Succession::kRollback);
  record_applied(h_, rb);
  EXPECT_EQ(h_.floor.created_floor_unix_ms, 1000u);

  auto replayed = judge_succession(h_, v(7, 700));
  ASSERT_FALSE(replayed);
  EXPECT_NE(replayed.error().message.find("belongs to the sequence that rollback abandoned"),
            std::string::npos);
  EXPECT_EQ(*judge_succession(h_, rb), Succession::kUnchanged);

  const VerifiedBundle fresh = v(4, 1100);
  ASSERT_EQ(*judge_succession(h_, fresh), Succession::kNewer);
  record_applied(h_, fresh);
  // The rollback itself cannot be replayed once something newer is in force.
  EXPECT_FALSE(judge_succession(h_, rb));
  EXPECT_FALSE(judge_succession(h_, v(8, 800)));
}

// With nothing in force (the saved bundle could not be restored or combined at start), the floor
// alone refuses what the bundle in force would have refused.
TEST_F(SuccessionTest, TheFloorRefusesOlderVersionsWhenNothingIsInForce) {
  record_applied(h_, v(5, 100));
  EXPECT_EQ(h_.floor.version, 5u);
  EXPECT_EQ(h_.floor.key_id, key_.id());
  h_.in_force.reset();
  auto old = judge_succession(h_, v(4, 200));
  ASSERT_FALSE(old);
  EXPECT_EQ(old.error().message,
            "version 4 is older than version 5, the highest accepted (the rollback floor; not in "
            "force): rollback refused (going back needs a bundle signed with an explicit rollback "
            "marker)");
  // The very version of the floor comes back (a redelivery of what was lost); another bundle
  // under its number does not.
  EXPECT_EQ(*judge_succession(h_, v(5, 100)), Succession::kRecovered);
  auto reused = judge_succession(h_, v(5, 100, {}, "other content"));
  ASSERT_FALSE(reused);
  EXPECT_NE(reused.error().message.find("version 5 is already accepted (the rollback floor) with "
                                        "different content"),
            std::string::npos);
  EXPECT_FALSE(judge_succession(h_, v(3, 300, RollbackMarker{4, "short"})));
  EXPECT_EQ(*judge_succession(h_, v(3, 300, RollbackMarker{5, "x"})), Succession::kRollback);
  EXPECT_EQ(*judge_succession(h_, v(6, 50)), Succession::kNewer);
}

TEST_F(SuccessionTest, AnUnknownFloorRefusesEveryBundle) {
  h_.floor.unknown = "/s/web.floor: unreadable";
  for (const auto& b : {v(1, 100), v(99, 100), v(1, 100, RollbackMarker{99, "x"})}) {
    auto r = judge_succession(h_, b);
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error().message,
              "the rollback floor of group 'web' is unknown (/s/web.floor: unreadable): every "
              "bundle is refused until an operator runs cmdgated --reset-fleet-floor web");
  }
}

TEST(FloorRecord, EncodesAndDecodesAndRefusesWhatItCannotRead) {
  Floor f{7, "0123456789abcdef", payload_sha256("payload"), 1234, ""};
  auto back = decode_floor(encode_floor(f), "web.floor");
  ASSERT_TRUE(back) << back.error().message;
  EXPECT_EQ(*back, f);
  for (const char* bad : {"", "{", "[]", "{\"version\": 7}",
                          "{\"version\": 0, \"key_id\": \"\", \"payload_sha256\": \"\", "
                          "\"created_floor_unix_ms\": 0}"}) {
    auto r = decode_floor(bad, "web.floor");
    ASSERT_FALSE(r) << bad;
    EXPECT_TRUE(r.error().message.starts_with("web.floor: unreadable rollback floor record: "))
        << r.error().message;
  }
}

}  // namespace
}  // namespace cmdgate::fleet
