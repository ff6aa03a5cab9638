#include "fleet/bundle_codec.h"

#include <gtest/gtest.h>

#include <random>

#include "fleet/bundle.pb.h"
#include "fleet_test_util.h"

namespace cmdgate::fleet {
namespace {

using testing::make_bundle;

class BundleCodec : public ::testing::Test {
 protected:
  SecretKey key_ = generate_secret_key();
  TrustedKeys trusted_ = TrustedKeys::of({key_.public_key()});
};

TEST_F(BundleCodec, SignedBundleVerifiesAndDecodesToWhatWasSigned) {
  Bundle b = make_bundle("web", 7, 1234);
  b.files.push_back({"20-team.toml", "# nothing\n"});
  b.admit_local = true;
  b.local_actions = {rules::Action::kDeny, rules::Action::kAudit};
  b.rollback = RollbackMarker{9, "bad push"};
  b.comment = "hello";
  const std::string bytes = sign_bundle(b, key_);
  auto v = verify_bundle(bytes, trusted_);
  ASSERT_TRUE(v) << v.error().message;
  EXPECT_EQ(v->key_id, key_.id());
  EXPECT_EQ(v->envelope, bytes);
  EXPECT_EQ(v->bundle.group, "web");
  EXPECT_EQ(v->bundle.version, 7u);
  EXPECT_EQ(v->bundle.created_unix_ms, 1234u);
  ASSERT_EQ(v->bundle.files.size(), 2u);
  EXPECT_EQ(v->bundle.files[1].name, "20-team.toml");
  EXPECT_EQ(v->bundle.files[0].content, b.files[0].content);
  EXPECT_TRUE(v->bundle.admit_local);
  EXPECT_EQ(v->bundle.local_actions, b.local_actions);
  ASSERT_TRUE(v->bundle.rollback);
  EXPECT_EQ(v->bundle.rollback->from_version, 9u);
  EXPECT_EQ(v->bundle.rollback->reason, "bad push");
  EXPECT_EQ(v->bundle.comment, "hello");
  EXPECT_EQ(v->payload, encode_payload(b));
}

// Whatever byte is flipped, the bundle is refused: either the envelope no longer parses, or the
// key id, signature or payload changed and the signature check fails.
TEST_F(BundleCodec, EveryFlippedByteIsRefused) {
  const std::string bytes = sign_bundle(make_bundle("web", 3), key_);
  for (size_t i = 0; i < bytes.size(); ++i) {
    for (uint8_t mask : {0x01, 0x80}) {
      std::string t = bytes;
      t[i] = static_cast<char>(static_cast<uint8_t>(t[i]) ^ mask);
      auto v = verify_bundle(t, trusted_);
      EXPECT_FALSE(v) << "byte " << i << " mask " << int(mask);
    }
  }
}

TEST_F(BundleCodec, FlippedPayloadByteIsABadSignature) {
  wire::SignedBundle w;
  ASSERT_TRUE(w.ParseFromString(sign_bundle(make_bundle("web", 3), key_)));
  std::string payload = w.payload();
  payload[payload.size() / 2] ^= 0x20;
  w.set_payload(payload);
  auto v = verify_bundle(w.SerializeAsString(), trusted_);
  ASSERT_FALSE(v);
  EXPECT_NE(v.error().message.find("bad signature"), std::string::npos) << v.error().message;
  EXPECT_NE(v.error().message.find(key_.id()), std::string::npos);
}

TEST_F(BundleCodec, UnknownKeyIsNamed) {
  const SecretKey other = generate_secret_key();
  auto v = verify_bundle(sign_bundle(make_bundle("web", 3), other), trusted_);
  ASSERT_FALSE(v);
  EXPECT_EQ(v.error().message,
            fmt::format("signed by unknown key {} (trusted: {})", other.id(), key_.id()));
}

TEST_F(BundleCodec, GarbageEmptyAndOversizedAreRefusedBeforeDecoding) {
  std::mt19937 rng(42);
  for (int i = 0; i < 200; ++i) {
    std::string junk(1 + rng() % 300, '\0');
    for (auto& c : junk) {
      c = static_cast<char>(rng());
    }
    EXPECT_FALSE(verify_bundle(junk, trusted_));
  }
  auto empty = verify_bundle("", trusted_);
  ASSERT_FALSE(empty);
  EXPECT_EQ(empty.error().message, "bundle is empty");

  const std::string big(10u * 1024 * 1024, 'x');
  auto large = verify_bundle(big, trusted_);
  ASSERT_FALSE(large);
  EXPECT_EQ(large.error().message, "bundle is 10485760 bytes; at most 4194304 are accepted");

  auto text = verify_bundle("hello, this is not a bundle", trusted_);
  ASSERT_FALSE(text);
  EXPECT_NE(text.error().message.find("not a signed cmdgate bundle"), std::string::npos)
      << text.error().message;
}

// Re-signing a payload with extra fields: the signature is good, but the agent will not apply
// what it cannot fully read.
TEST_F(BundleCodec, SignedPayloadWithUnknownFieldsIsRefused) {
  std::string payload = encode_payload(make_bundle("web", 3));
  payload += std::string("\xa0\x06\x01", 3);  // field 100, varint 1
  wire::SignedBundle w;
  w.set_payload(payload);
  w.set_signature(key_.sign(payload));
  w.set_key_id(key_.id());
  auto v = verify_bundle(w.SerializeAsString(), trusted_);
  ASSERT_FALSE(v);
  EXPECT_NE(v.error().message.find("fields this cmdgate does not know"), std::string::npos)
      << v.error().message;
}

TEST_F(BundleCodec, SignedPayloadOfAnotherFormatIsRefused) {
  wire::Bundle b;
  ASSERT_TRUE(b.ParseFromString(encode_payload(make_bundle("web", 3))));
  b.set_format(2);
  const std::string payload = b.SerializeAsString();
  wire::SignedBundle w;
  w.set_payload(payload);
  w.set_signature(key_.sign(payload));
  w.set_key_id(key_.id());
  auto v = verify_bundle(w.SerializeAsString(), trusted_);
  ASSERT_FALSE(v);
  EXPECT_EQ(v.error().message,
            "signed payload: bundle format 2 is not supported (this cmdgate reads format 1)");
}

TEST(BundleValidate, NamesVersionsAndMarkers) {
  Bundle ok = make_bundle("web", 1);
  EXPECT_TRUE(validate(ok));

  Bundle b = ok;
  b.group = "web/+";
  EXPECT_FALSE(validate(b));
  b = ok;
  b.version = 0;
  EXPECT_EQ(validate(b).error().message, "version must be at least 1");
  b = ok;
  b.files.push_back(b.files[0]);
  EXPECT_EQ(validate(b).error().message, "rule file '10-base.toml' appears twice");
  b = ok;
  b.files[0].name = "../etc.toml";
  EXPECT_FALSE(validate(b));
  b = ok;
  b.files[0].name = "base.txt";
  EXPECT_EQ(validate(b).error().message, "rule file name 'base.txt': must end in .toml");
  b = ok;
  b.rollback = RollbackMarker{1, ""};
  EXPECT_EQ(validate(b).error().message,
            "rollback marker: from_version 1 must be above the bundle's version 1");
  b = ok;
  b.local_actions = {rules::Action::kDeny};
  EXPECT_FALSE(validate(b));
}

}  // namespace
}  // namespace cmdgate::fleet
