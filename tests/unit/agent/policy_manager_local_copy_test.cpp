// The last-known-good copy of the local rule files is written from the loop, after the start
// that published the policy, and by save_local_copy() when the loop stopped before it ran.

#include <gtest/gtest.h>

#include <fstream>

#include "kernel/evaluation_only_port.h"
#include "loop/event_loop.h"
#include "policy/local_last_known_good.h"
#include "policy/policy_manager.h"
#include "processes.h"
#include "rules/policy.h"

namespace cmdgate {
namespace {

class PolicyManagerLocalCopy : public ::testing::Test {
 protected:
  void SetUp() override {
    std::ofstream(tmp_.file("local.toml")) << kRules;
    loop_ = std::move(EventLoop::create().value());
    store_ = std::make_unique<PolicyStore>(
        PolicySource{{tmp_.file("local.toml")}, std::nullopt, std::nullopt}, names_, files_);
    manager_ = std::make_unique<PolicyManager>(*store_, port_, *loop_);
    manager_->keep_local_copy(&copy_);
    ASSERT_TRUE(manager_->start());
  }
  void expect_saved() const {
    auto saved = copy_.load();
    ASSERT_TRUE(saved) << saved.error().message;
    ASSERT_EQ(saved->files.size(), 1u);
    EXPECT_EQ(saved->files[0].text, kRules);
  }

  static constexpr const char* kRules =
      "[[rule]]\nid = \"local\"\naction = \"deny\"\npath = \"/usr/bin/local\"\n";
  test::TempDir tmp_;
  LocalLastKnownGood copy_{tmp_.file("state/local-rules.json")};
  rules::SystemNameResolver names_;
  rules::SystemFileResolver files_;
  EvaluationOnlyPort port_;
  std::unique_ptr<EventLoop> loop_;
  std::unique_ptr<PolicyStore> store_;
  std::unique_ptr<PolicyManager> manager_;
};

TEST_F(PolicyManagerLocalCopy, TheLoopSavesItOnceTheStartIsDone) {
  EXPECT_FALSE(copy_.load()) << "saved before the start returned";
  loop_->at(std::chrono::steady_clock::now() + std::chrono::milliseconds(20),
            [&] { loop_->stop(); });
  loop_->run();
  expect_saved();
}

TEST_F(PolicyManagerLocalCopy, AStopBeforeTheLoopRanStillSavesIt) {
  manager_->save_local_copy();
  expect_saved();
}

}  // namespace
}  // namespace cmdgate
