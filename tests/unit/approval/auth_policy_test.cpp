#include "approval/auth_policy.h"

#include <gtest/gtest.h>

namespace cmdgate {
namespace {

TEST(AuthPolicy, NamesRoundTrip) {
  for (auto w : {AuthenticateWhen::kSameUid, AuthenticateWhen::kAlways, AuthenticateWhen::kNever}) {
    EXPECT_EQ(kAuthenticateWords.parse(to_string(w)), w);
  }
  EXPECT_FALSE(kAuthenticateWords.parse("same_uid"));
  EXPECT_EQ(kAuthenticateWords.list(), "\"same-uid\", \"always\", \"never\"");
}

TEST(AuthPolicy, WhoMustAuthenticate) {
  // same-uid: the requester's own uid, the helper-outside-the-tree case.
  EXPECT_TRUE(must_authenticate(AuthenticateWhen::kSameUid, 1000, 1000));
  EXPECT_FALSE(must_authenticate(AuthenticateWhen::kSameUid, 1001, 1000));
  EXPECT_FALSE(must_authenticate(AuthenticateWhen::kSameUid, 0, 1000));
  EXPECT_FALSE(must_authenticate(AuthenticateWhen::kSameUid, 0, 0));
  EXPECT_TRUE(must_authenticate(AuthenticateWhen::kAlways, 0, 0));
  EXPECT_TRUE(must_authenticate(AuthenticateWhen::kAlways, 1001, 1000));
  EXPECT_FALSE(must_authenticate(AuthenticateWhen::kNever, 1000, 1000));
}

}  // namespace
}  // namespace cmdgate
