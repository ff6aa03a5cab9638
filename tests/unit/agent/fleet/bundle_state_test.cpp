#include "fleet/bundle_state.h"

#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <sys/wait.h>

#include <chrono>
#include <csignal>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <random>
#include <thread>

#include "fleet/bundle_codec.h"
#include "fleet/status.h"

namespace cmdgate::fleet {
namespace {

class BundleStateTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/cmdgate-state.XXXXXX";
    root_ = ::mkdtemp(tmpl);
  }
  void TearDown() override { std::filesystem::remove_all(root_); }

  VerifiedBundle bundle(uint64_t version, uint64_t created,
                        std::optional<RollbackMarker> rollback = {}) {
    Bundle b;
    b.group = "web";
    b.version = version;
    b.created_unix_ms = created;
    b.files = {{"a.toml", "default_action = \"allow\"\n"}};
    b.rollback = std::move(rollback);
    return *verify_bundle(sign_bundle(b, key_), keys_);
  }

  // As the agent does after an apply: the history moves on, then everything is saved.
  static Status accept(BundleState& state, GroupHistory& h, VerifiedBundle v) {
    record_applied(h, std::move(v));
    return state.save("web", *h.in_force, h.floor);
  }
  static void overwrite(const std::string& path, const std::string& bytes) {
    std::ofstream(path, std::ios::binary | std::ios::trunc) << bytes;
  }
  static std::string slurp(const std::string& path) {
    std::ifstream f(path, std::ios::binary);
    return {std::istreambuf_iterator<char>(f), {}};
  }

  std::string root_;
  SecretKey key_ = generate_secret_key();
  TrustedKeys keys_ = TrustedKeys::of({key_.public_key()});
};

TEST_F(BundleStateTest, NothingSavedIsAnEmptyHistory) {
  BundleState state(root_ + "/a/b", kDefaultMaxBundleBytes);
  ASSERT_TRUE(state.prepare());
  struct stat st {};
  ASSERT_EQ(::stat((root_ + "/a/b").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0700u);
  const Restored r = state.restore("web", keys_);
  EXPECT_TRUE(r.problems.empty());
  EXPECT_FALSE(r.history.in_force);
  EXPECT_EQ(r.history.floor, Floor());
}

TEST_F(BundleStateTest, SavedBundleAndRollbackFloorComeBack) {
  BundleState state(root_, kDefaultMaxBundleBytes);
  GroupHistory saved;
  ASSERT_TRUE(accept(state, saved, bundle(9, 900)));
  ASSERT_TRUE(accept(state, saved, bundle(3, 1000, RollbackMarker{9, "undo"})));
  ASSERT_TRUE(accept(state, saved, bundle(4, 1100)));
  const Restored r = state.restore("web", keys_);
  EXPECT_TRUE(r.problems.empty());
  EXPECT_TRUE(r.floor_recorded);
  ASSERT_TRUE(r.history.in_force);
  EXPECT_EQ(r.history.in_force->bundle.version, 4u);
  EXPECT_EQ(r.history.floor, saved.floor);
  EXPECT_EQ(r.history.floor.version, 4u);
  EXPECT_EQ(r.history.floor.created_floor_unix_ms, 1000u);
  // The restored history still refuses the abandoned sequence.
  EXPECT_FALSE(judge_succession(r.history, bundle(8, 800)));
}

TEST_F(BundleStateTest, TamperedOrUntrustedBundlesAreProblemsNamingTheFile) {
  BundleState state(root_, kDefaultMaxBundleBytes);
  GroupHistory saved;
  ASSERT_TRUE(accept(state, saved, bundle(2, 200)));
  auto other = TrustedKeys::of({generate_secret_key().public_key()});
  const Restored untrusted = state.restore("web", other);
  EXPECT_FALSE(untrusted.history.in_force);
  ASSERT_EQ(untrusted.problems.size(), 1u);
  EXPECT_NE(untrusted.problems[0].find(state.bundle_path("web")), std::string::npos);
  EXPECT_NE(untrusted.problems[0].find("unknown key"), std::string::npos);

  std::string bytes = slurp(state.bundle_path("web"));
  bytes[10] ^= 1;  // inside the payload
  overwrite(state.bundle_path("web"), bytes);
  const Restored tampered = state.restore("web", keys_);
  EXPECT_FALSE(tampered.history.in_force);
  ASSERT_EQ(tampered.problems.size(), 1u);
  EXPECT_NE(tampered.problems[0].find(state.bundle_path("web")), std::string::npos);

  ASSERT_TRUE(accept(state, saved, bundle(3, 300)));
  std::filesystem::rename(state.bundle_path("web"), state.bundle_path("db"));
  const Restored wrong_group = state.restore("db", keys_);
  ASSERT_EQ(wrong_group.problems.size(), 1u);
  EXPECT_NE(wrong_group.problems[0].find("holds a bundle for group 'web'"), std::string::npos);
}

// The floor does not depend on the bundle: a saved bundle that no longer restores leaves the
// floor in force, and an older bundle stays refused.
TEST_F(BundleStateTest, TheFloorOutlivesABundleThatNoLongerRestores) {
  BundleState state(root_, kDefaultMaxBundleBytes);
  GroupHistory saved;
  ASSERT_TRUE(accept(state, saved, bundle(5, 500)));
  overwrite(state.bundle_path("web"), "garbage");
  const Restored r = state.restore("web", keys_);
  EXPECT_FALSE(r.history.in_force);
  EXPECT_EQ(r.problems.size(), 1u);
  EXPECT_TRUE(r.history.floor.unknown.empty());
  EXPECT_EQ(r.history.floor.version, 5u);
  EXPECT_FALSE(judge_succession(r.history, bundle(4, 600)));
  EXPECT_EQ(*judge_succession(r.history, bundle(5, 500)), Succession::kRecovered);
}

// Saved before floor records existed (or the record was removed): the saved bundle is the floor.
// Without the record and without a readable bundle, the floor is unknown and refuses everything.
TEST_F(BundleStateTest, WithoutItsRecordTheFloorComesFromTheBundlesOrIsUnknown) {
  BundleState state(root_, kDefaultMaxBundleBytes);
  GroupHistory saved;
  ASSERT_TRUE(accept(state, saved, bundle(5, 500)));
  ASSERT_EQ(::unlink(state.floor_path("web").c_str()), 0);
  const Restored derived = state.restore("web", keys_);
  EXPECT_FALSE(derived.floor_recorded);
  EXPECT_EQ(derived.history.floor, saved.floor);

  overwrite(state.bundle_path("web"), "garbage");
  const Restored lost = state.restore("web", keys_);
  EXPECT_NE(lost.history.floor.unknown.find(state.bundle_path("web")), std::string::npos);
  EXPECT_FALSE(judge_succession(lost.history, bundle(9, 900)));
}

TEST_F(BundleStateTest, AnUnreadableFloorRecordIsUnknownUntilReset) {
  BundleState state(root_, kDefaultMaxBundleBytes);
  GroupHistory saved;
  ASSERT_TRUE(accept(state, saved, bundle(5, 500)));
  overwrite(state.floor_path("web"), "{\"version\": 5");
  const Restored r = state.restore("web", keys_);
  ASSERT_TRUE(r.history.in_force);  // the bundle still restores: it stays in force
  EXPECT_NE(r.history.floor.unknown.find(state.floor_path("web")), std::string::npos);
  EXPECT_FALSE(judge_succession(r.history, bundle(6, 600)));

  auto removed = state.reset("web");
  ASSERT_TRUE(removed) << removed.error().message;
  EXPECT_EQ(*removed,
            (std::vector<std::string>{state.floor_path("web"), state.bundle_path("web")}));
  const Restored after = state.restore("web", keys_);
  EXPECT_EQ(after.history.floor, Floor());
  EXPECT_FALSE(after.history.in_force);
}

// A rollback (to 2, from 5) whose save stopped after the floor and the rollback were written:
// the bundle file still holds 5, which the rollback abandoned. The rollback is what comes back,
// and the floor is not raised to 5 by the stale file.
TEST_F(BundleStateTest, ARollbackSaveCutShortRestoresTheRollbackNotTheAbandonedBundle) {
  BundleState state(root_, kDefaultMaxBundleBytes);
  GroupHistory saved;
  ASSERT_TRUE(accept(state, saved, bundle(5, 500)));
  const std::string stale = slurp(state.bundle_path("web"));
  ASSERT_TRUE(accept(state, saved, bundle(2, 900, RollbackMarker{5, "undo"})));
  overwrite(state.bundle_path("web"), stale);  // as if the last rename never happened
  const Restored r = state.restore("web", keys_);
  ASSERT_TRUE(r.history.in_force);
  EXPECT_EQ(r.history.in_force->bundle.version, 2u);
  EXPECT_EQ(r.history.floor, saved.floor);
  ASSERT_EQ(r.problems.size(), 1u);
  EXPECT_NE(r.problems[0].find("was created before the last accepted rollback"),
            std::string::npos);
  EXPECT_EQ(*judge_succession(r.history, bundle(3, 1000)), Succession::kNewer);
  EXPECT_FALSE(judge_succession(r.history, bundle(6, 600)));
}

// A save killed at any point (SIGKILL: no destructor, no flush) leaves the floor record as it was
// before that save or as that save made it: never lost, never lower, never unreadable. A child
// saves versions 1, 2, 3, ... telling the parent each one it finished; the parent kills it at a
// random moment and reads the record back.
TEST_F(BundleStateTest, AFloorSaveKilledAtAnyPointLeavesTheOldOrTheNewFloor) {
  BundleState state(root_, kDefaultMaxBundleBytes);
  ASSERT_TRUE(state.prepare());
  std::vector<VerifiedBundle> bundles;
  for (uint64_t v = 1; v <= 400; ++v) {
    bundles.push_back(bundle(v, 100 + v));
  }
  std::mt19937 rng(20261206);
  int killed = 0;
  int newer = 0;
  for (int round = 0; round < 40; ++round) {
    ASSERT_TRUE(state.reset("web"));
    int done[2];
    ASSERT_EQ(::pipe(done), 0);
    const pid_t child = ::fork();
    ASSERT_GE(child, 0);
    if (child == 0) {
      ::close(done[0]);
      GroupHistory h;
      for (const auto& b : bundles) {
        record_applied(h, b);
        if (!state.save("web", *h.in_force, h.floor)) {
          ::_exit(3);
        }
        const uint64_t v = h.floor.version;
        if (::write(done[1], &v, sizeof(v)) != sizeof(v)) {
          ::_exit(4);
        }
      }
      ::_exit(0);
    }
    ::close(done[1]);
    std::this_thread::sleep_for(std::chrono::microseconds(500 + rng() % 20000));
    ::kill(child, SIGKILL);
    int status = 0;
    ASSERT_EQ(::waitpid(child, &status, 0), child);
    uint64_t last = 0;
    uint64_t v = 0;
    while (::read(done[0], &v, sizeof(v)) == sizeof(v)) {
      last = v;
    }
    ::close(done[0]);
    if (WIFEXITED(status)) {
      ASSERT_EQ(WEXITSTATUS(status), 0);
      continue;  // finished before the kill: no crash to look at
    }
    ++killed;
    const Restored r = state.restore("web", keys_);
    ASSERT_TRUE(r.history.floor.unknown.empty()) << r.history.floor.unknown;
    // `last` finished; the one after it may have been renamed into place before the kill.
    ASSERT_GE(r.history.floor.version, last) << "round " << round;
    ASSERT_LE(r.history.floor.version, last + 1) << "round " << round;
    if (last != 0) {
      ASSERT_TRUE(r.floor_recorded);
    }
    newer += r.history.floor.version != last ? 1 : 0;
  }
  EXPECT_GT(killed, 20);
  std::printf("%d of 40 saves killed mid-run; %d left the floor of the save in flight\n", killed,
              newer);
}

}  // namespace
}  // namespace cmdgate::fleet
