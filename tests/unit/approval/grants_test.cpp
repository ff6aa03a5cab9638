#include "park/grants.h"

#include <gtest/gtest.h>

namespace cmdgate {
namespace {

using namespace std::chrono_literals;

TEST(Grants, SameUserSameFileSameArgvUntilExpiry) {
  Grants g;
  const Grants::Time t0{};
  g.add(1000, {1, 2}, {"git", "push", "--force"}, t0 + 10min);
  EXPECT_TRUE(g.allows(1000, {1, 2}, {"git", "push", "--force"}, t0 + 1min));
  EXPECT_FALSE(g.allows(1001, {1, 2}, {"git", "push", "--force"}, t0 + 1min));
  EXPECT_FALSE(g.allows(1000, {1, 3}, {"git", "push", "--force"}, t0 + 1min));
  EXPECT_FALSE(g.allows(1000, {1, 2}, {"git", "push", "--force", "x"}, t0 + 1min));
  // Argument boundaries matter: ["a b"] is not ["a", "b"].
  g.add(1000, {1, 2}, {"a b"}, t0 + 10min);
  EXPECT_FALSE(g.allows(1000, {1, 2}, {"a", "b"}, t0 + 1min));
  EXPECT_FALSE(g.allows(1000, {1, 2}, {"git", "push", "--force"}, t0 + 11min));
  EXPECT_EQ(g.size(), 0u);
}

}  // namespace
}  // namespace cmdgate
