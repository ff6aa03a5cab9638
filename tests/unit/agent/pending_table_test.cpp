#include "park/pending_table.h"

#include <gtest/gtest.h>

namespace cmdgate {
namespace {

using namespace std::chrono_literals;

PendingRequest request(uint32_t tgid, uint64_t exec_id, SteadyTime deadline) {
  PendingRequest r;
  r.event.tgid = tgid;
  r.event.exec_id = exec_id;
  r.deadline = deadline;
  return r;
}

TEST(PendingTable, EachRequestLeavesExactlyOnce) {
  PendingTable t;
  const SteadyTime now{};
  const uint64_t a = t.add(request(1, 10, now + 5s));
  const uint64_t b = t.add(request(2, 20, now + 1s));
  EXPECT_NE(a, b);
  EXPECT_EQ(t.size(), 2u);
  EXPECT_EQ(t.next_deadline(), now + 1s);

  auto expired = t.take_expired(now + 2s);
  ASSERT_EQ(expired.size(), 1u);
  EXPECT_EQ(expired[0].id, b);
  EXPECT_FALSE(t.take(b));  // already gone
  EXPECT_TRUE(t.contains_exec(1, 10));
  auto by_exec = t.take_exec(1, 10);
  ASSERT_TRUE(by_exec);
  EXPECT_EQ(by_exec->id, a);
  EXPECT_FALSE(t.take(a));
  EXPECT_EQ(t.size(), 0u);
  EXPECT_FALSE(t.next_deadline());
}

TEST(PendingTable, TakeAllEmptiesTheTable) {
  PendingTable t;
  for (uint32_t i = 0; i < 100; ++i) {
    t.add(request(i, i, SteadyTime{} + std::chrono::seconds(i)));
  }
  EXPECT_EQ(t.take_all().size(), 100u);
  EXPECT_EQ(t.size(), 0u);
  EXPECT_TRUE(t.take_expired(SteadyTime{} + 1000s).empty());
}

}  // namespace
}  // namespace cmdgate
