#include "fleet/keys.h"

#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

namespace cmdgate::fleet {
namespace {

class KeyFiles : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/cmdgate-keys.XXXXXX";
    dir_ = ::mkdtemp(tmpl);
    ::chmod(dir_.c_str(), 0755);
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }
  std::string file(const std::string& name) const { return dir_ + "/" + name; }

  std::string dir_;
};

TEST(Keys, IdIsSixteenHexDigitsOfBlake2bOfThePublicKey) {
  const SecretKey k = generate_secret_key();
  const PublicKey p = k.public_key();
  EXPECT_EQ(k.id().size(), 16u);
  EXPECT_EQ(k.id(), p.id);
  EXPECT_EQ(k.id(), key_id(p.bytes));
  EXPECT_NE(k.id(), generate_secret_key().id());
}

TEST(Keys, SignaturesVerifyOnlyForTheExactMessageAndKey) {
  const SecretKey k = generate_secret_key();
  const std::string sig = k.sign("payload");
  EXPECT_TRUE(verify_signature(k.public_key(), "payload", sig));
  EXPECT_FALSE(verify_signature(k.public_key(), "payloaD", sig));
  EXPECT_FALSE(verify_signature(generate_secret_key().public_key(), "payload", sig));
  EXPECT_FALSE(verify_signature(k.public_key(), "payload", sig.substr(1)));
}

TEST(Keys, TextFormsRoundTrip) {
  const SecretKey k = generate_secret_key();
  auto p = parse_public_key(format_public_key(k.public_key()), "k.pub");
  ASSERT_TRUE(p) << p.error().message;
  EXPECT_EQ(p->bytes, k.public_key().bytes);
  auto s = parse_secret_key(format_secret_key(k), "k.key");
  ASSERT_TRUE(s) << s.error().message;
  EXPECT_EQ(s->id(), k.id());
  EXPECT_EQ(s->sign("m"), k.sign("m"));

  auto wrong_tag = parse_public_key(format_secret_key(k), "k.pub");
  ASSERT_FALSE(wrong_tag);
  EXPECT_NE(wrong_tag.error().message.find("k.pub: not a cmdgate key file"), std::string::npos);
  auto short_key = parse_public_key("cmdgate-ed25519-public AAAA\n", "k.pub");
  ASSERT_FALSE(short_key);
  EXPECT_EQ(short_key.error().message, "k.pub: malformed key: expected base64 of 32 bytes");
}

TEST_F(KeyFiles, PairIsWrittenWithStrictModesAndNeverOverwritten) {
  const SecretKey k = generate_secret_key();
  ASSERT_TRUE(write_key_pair(k, file("signer")));
  struct stat st {};
  ASSERT_EQ(::stat(file("signer.key").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 07777, 0600u);
  ASSERT_EQ(::stat(file("signer.pub").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 07777, 0644u);
  auto again = write_key_pair(generate_secret_key(), file("signer"));
  ASSERT_FALSE(again);
  EXPECT_NE(again.error().message.find("already exists"), std::string::npos);

  auto read_back = read_secret_key(file("signer.key"));
  ASSERT_TRUE(read_back) << read_back.error().message;
  EXPECT_EQ(read_back->id(), k.id());
  auto pub = read_public_key(file("signer.pub"));
  ASSERT_TRUE(pub) << pub.error().message;
  EXPECT_EQ(pub->id, k.id());
}

TEST_F(KeyFiles, ReadableSecretKeyIsRefused) {
  ASSERT_TRUE(write_key_pair(generate_secret_key(), file("signer")));
  ::chmod(file("signer.key").c_str(), 0640);
  auto k = read_secret_key(file("signer.key"));
  ASSERT_FALSE(k);
  EXPECT_EQ(k.error().message,
            fmt::format("{}: mode 0640 lets group or others access it; run chmod 600 {}",
                        file("signer.key"), file("signer.key")));
}

TEST_F(KeyFiles, TrustedDirectoryLoadsEveryPubFileAndRefusesBadOnes) {
  const SecretKey a = generate_secret_key();
  const SecretKey b = generate_secret_key();
  ASSERT_TRUE(write_key_pair(a, file("a")));
  ASSERT_TRUE(write_key_pair(b, file("b")));
  std::filesystem::remove(file("a.key"));
  std::filesystem::remove(file("b.key"));
  std::ofstream(file("README")) << "ignored\n";
  auto keys = TrustedKeys::load_dir(dir_);
  ASSERT_TRUE(keys) << keys.error().message;
  EXPECT_EQ(keys->size(), 2u);
  ASSERT_NE(keys->find(a.id()), nullptr);
  EXPECT_EQ(keys->find(a.id())->origin, file("a.pub"));
  EXPECT_NE(keys->find(b.id()), nullptr);

  ::chmod(file("b.pub").c_str(), 0666);
  auto writable = TrustedKeys::load_dir(dir_);
  ASSERT_FALSE(writable);
  EXPECT_NE(writable.error().message.find(file("b.pub") + ": mode 0666 lets group or others write"),
            std::string::npos)
      << writable.error().message;
  ::chmod(file("b.pub").c_str(), 0644);

  std::ofstream(file("c.pub")) << "garbage\n";
  auto garbage = TrustedKeys::load_dir(dir_);
  ASSERT_FALSE(garbage);
  EXPECT_NE(garbage.error().message.find(file("c.pub")), std::string::npos);
}

TEST_F(KeyFiles, EmptyOrMissingTrustedDirectoryIsAnError) {
  auto empty = TrustedKeys::load_dir(dir_);
  ASSERT_FALSE(empty);
  EXPECT_EQ(empty.error().message, fmt::format("trusted keys: {}: no *.pub files", dir_));
  auto missing = TrustedKeys::load_dir(file("nope"));
  ASSERT_FALSE(missing);
  EXPECT_NE(missing.error().message.find("No such file"), std::string::npos);
}

}  // namespace
}  // namespace cmdgate::fleet
