#include "approval/auth_limiter.h"

#include <gtest/gtest.h>

namespace cmdgate {
namespace {

using namespace std::chrono_literals;
using Time = AuthLimiter::Time;

TEST(AuthLimiter, EachFailureDoublesTheWaitThenLocksOut) {
  AuthLimiter l({.max_failures = 4, .window = 15min, .first_backoff = 1s});
  Time t{};
  EXPECT_FALSE(l.refuse(1000, t));
  l.failed(1000, t);
  EXPECT_TRUE(l.refuse(1000, t + 500ms));
  EXPECT_FALSE(l.refuse(1000, t + 1s));
  t += 1s;
  l.failed(1000, t);
  EXPECT_TRUE(l.refuse(1000, t + 1s));
  EXPECT_FALSE(l.refuse(1000, t + 2s));
  t += 2s;
  l.failed(1000, t);
  EXPECT_TRUE(l.refuse(1000, t + 3s));
  EXPECT_FALSE(l.refuse(1000, t + 4s));
  t += 4s;
  l.failed(1000, t);
  // The fourth within the window: locked out until the first leaves it, however long it waits.
  EXPECT_TRUE(l.locked_out(1000, t + 10min));
  auto why = l.refuse(1000, t + 10min);
  ASSERT_TRUE(why);
  EXPECT_NE(why->find("locked out"), std::string::npos) << *why;
  EXPECT_FALSE(l.refuse(1000, Time{} + 15min + 1s + 8s));
  // Other uids are not affected.
  EXPECT_FALSE(l.refuse(1001, t));
}

TEST(AuthLimiter, SuccessClearsAndOneAttemptPerUidAtATime) {
  AuthLimiter l({});
  const Time t{};
  l.failed(1000, t);
  l.succeeded(1000);
  EXPECT_FALSE(l.refuse(1000, t));
  l.started(1000);
  auto why = l.refuse(1000, t);
  ASSERT_TRUE(why);
  EXPECT_NE(why->find("already under way"), std::string::npos);
  EXPECT_FALSE(l.refuse(1001, t));
  l.ended(1000);
  EXPECT_FALSE(l.refuse(1000, t));
}

}  // namespace
}  // namespace cmdgate
