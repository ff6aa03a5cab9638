// The lock-free snapshot cell under concurrent readers: run under ThreadSanitizer and
// AddressSanitizer in CI, where a race or a use-after-free fails the test.

#include "common/snapshot_cell.h"

#include <gtest/gtest.h>

#include <atomic>
#include <thread>
#include <vector>

#include "rules/policy.h"

namespace cmdgate {
namespace {

struct Pair {
  uint64_t a = 0;
  uint64_t b = 0;  // always 2 * a: a reader that sees otherwise saw a torn or freed value
  std::vector<uint64_t> payload;
};

TEST(SnapshotCell, ReadersSeeWholeValuesWhileTheWriterSwapsThousandsOfTimes) {
  SnapshotCell<Pair> cell;
  cell.publish(std::make_unique<Pair>(Pair{1, 2, std::vector<uint64_t>(64, 1)}));
  std::atomic<bool> stop{false};
  std::atomic<uint64_t> reads{0};
  std::vector<std::thread> readers;
  for (size_t slot = 0; slot < 3; ++slot) {
    readers.emplace_back([&, slot] {
      uint64_t last = 0;
      while (!stop.load(std::memory_order_relaxed)) {
        auto r = cell.read(slot);
        ASSERT_TRUE(r);
        EXPECT_EQ(r->b, 2 * r->a);
        EXPECT_EQ(r->payload.size(), 64u);
        EXPECT_EQ(r->payload[63], r->a);
        EXPECT_GE(r->a, last);  // never an older value after a newer one
        last = r->a;
        reads.fetch_add(1, std::memory_order_relaxed);
      }
    });
  }
  while (reads.load() < 100) {
    std::this_thread::yield();  // readers running before the swaps start
  }
  for (uint64_t i = 2; i < 5000; ++i) {
    cell.publish(std::make_unique<Pair>(Pair{i, 2 * i, std::vector<uint64_t>(64, i)}));
    if (i % 64 == 0) {
      std::this_thread::yield();
    }
  }
  const uint64_t during = reads.load();
  stop = true;
  for (auto& t : readers) {
    t.join();
  }
  cell.reclaim();
  EXPECT_EQ(cell.retired(), 0u);
  EXPECT_GT(during, 100u);
}

// What the daemon publishes: whole compiled policies. Every evaluation is answered by exactly
// the policy it read, never a mix.
struct Held {
  int version = 0;
  std::shared_ptr<const rules::Policy> policy;
};

TEST(SnapshotCell, EvaluationsDuringPolicySwapsSeeOnePolicy) {
  std::vector<std::shared_ptr<const rules::Policy>> policies;
  for (int v = 0; v < 4; ++v) {
    rules::RuleSet rs;
    rs.default_action = rules::Action::kAllow;
    rules::Rule r;
    r.id = "v" + std::to_string(v);
    r.action = v % 2 ? rules::Action::kDeny : rules::Action::kAudit;
    r.match.args = {"^--v" + std::to_string(v) + "$"};
    rs.rules.push_back(r);
    auto p = rules::Policy::compile(std::move(rs), rules::SystemFileResolver());
    ASSERT_TRUE(p.ok());
    policies.push_back(*p);
  }
  SnapshotCell<Held> cell;
  cell.publish(std::make_unique<Held>(Held{0, policies[0]}));
  std::atomic<bool> stop{false};
  std::atomic<uint64_t> evaluations{0};
  std::vector<std::thread> readers;
  for (size_t slot = 0; slot < 3; ++slot) {
    readers.emplace_back([&, slot] {
      const std::vector<std::string> args[4] = {{"x", "--v0"}, {"x", "--v1"}, {"x", "--v2"},
                                                {"x", "--v3"}};
      while (!stop.load(std::memory_order_relaxed)) {
        auto held = cell.read(slot);
        const int v = held->version;
        std::vector<std::string_view> argv(args[v].begin(), args[v].end());
        rules::ExecContext ctx;
        ctx.path = "/bin/x";
        ctx.argv = argv;
        const rules::Decision d = held->policy->evaluate(ctx);
        ASSERT_NE(d.rule, nullptr);
        EXPECT_EQ(d.rule->id, "v" + std::to_string(v));
        evaluations.fetch_add(1, std::memory_order_relaxed);
      }
    });
  }
  while (evaluations.load() < 100) {
    std::this_thread::yield();
  }
  for (int i = 1; i < 4000; ++i) {
    cell.publish(std::make_unique<Held>(Held{i % 4, policies[i % 4]}));
    if (i % 64 == 0) {
      std::this_thread::yield();
    }
  }
  stop = true;
  for (auto& t : readers) {
    t.join();
  }
}

}  // namespace
}  // namespace cmdgate
