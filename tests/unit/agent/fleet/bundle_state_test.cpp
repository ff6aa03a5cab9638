#include "fleet/bundle_state.h"

#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

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
  auto h = state.restore("web", keys_);
  ASSERT_TRUE(h) << h.error().message;
  EXPECT_FALSE(h->in_force);
  EXPECT_EQ(h->created_floor_unix_ms, 0u);
}

TEST_F(BundleStateTest, SavedBundleAndRollbackFloorComeBack) {
  BundleState state(root_, kDefaultMaxBundleBytes);
  ASSERT_TRUE(state.save("web", bundle(9, 900)));
  ASSERT_TRUE(state.save("web", bundle(3, 1000, RollbackMarker{9, "undo"})));
  ASSERT_TRUE(state.save("web", bundle(4, 1100)));
  auto h = state.restore("web", keys_);
  ASSERT_TRUE(h) << h.error().message;
  ASSERT_TRUE(h->in_force);
  EXPECT_EQ(h->in_force->bundle.version, 4u);
  EXPECT_EQ(h->created_floor_unix_ms, 1000u);
  // The restored history still refuses the abandoned sequence.
  EXPECT_FALSE(judge_succession(*h, bundle(8, 800)));
}

TEST_F(BundleStateTest, TamperedOrUntrustedStateIsAnErrorNamingTheFile) {
  BundleState state(root_, kDefaultMaxBundleBytes);
  ASSERT_TRUE(state.save("web", bundle(2, 200)));
  auto other = TrustedKeys::of({generate_secret_key().public_key()});
  auto untrusted = state.restore("web", other);
  ASSERT_FALSE(untrusted);
  EXPECT_NE(untrusted.error().message.find(state.bundle_path("web")), std::string::npos);
  EXPECT_NE(untrusted.error().message.find("unknown key"), std::string::npos);

  std::string bytes;
  {
    std::ifstream f(state.bundle_path("web"), std::ios::binary);
    bytes.assign(std::istreambuf_iterator<char>(f), {});
  }
  bytes[10] ^= 1;  // inside the payload
  std::ofstream(state.bundle_path("web"), std::ios::binary) << bytes;
  auto tampered = state.restore("web", keys_);
  ASSERT_FALSE(tampered);
  EXPECT_NE(tampered.error().message.find(state.bundle_path("web")), std::string::npos);

  ASSERT_TRUE(state.save("web", bundle(2, 200)));
  std::filesystem::rename(state.bundle_path("web"), state.bundle_path("db"));
  auto wrong_group = state.restore("db", keys_);
  ASSERT_FALSE(wrong_group);
  EXPECT_NE(wrong_group.error().message.find("holds a bundle for group 'web'"), std::string::npos);
}

}  // namespace
}  // namespace cmdgate::fleet
