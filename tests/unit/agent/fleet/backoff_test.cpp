#include "fleet/backoff.h"

#include <gtest/gtest.h>

namespace cmdgate::fleet {
namespace {

using std::chrono::milliseconds;

TEST(Backoff, DoublesUpToTheMaximumWithJitterInTheUpperHalf) {
  Backoff b(milliseconds(100), milliseconds(1000), 7);
  const int64_t ceilings[] = {100, 200, 400, 800, 1000, 1000, 1000};
  for (int64_t c : ceilings) {
    const auto d = b.next().count();
    EXPECT_GE(d, c / 2);
    EXPECT_LE(d, c);
  }
  b.reset();
  EXPECT_LE(b.next().count(), 100);
}

TEST(Backoff, DifferentSeedsSpreadTheFleet) {
  std::set<int64_t> first_delays;
  for (uint64_t seed = 0; seed < 50; ++seed) {
    Backoff b(milliseconds(1000), milliseconds(30000), seed);
    first_delays.insert(b.next().count());
  }
  EXPECT_GT(first_delays.size(), 40u);
}

}  // namespace
}  // namespace cmdgate::fleet
