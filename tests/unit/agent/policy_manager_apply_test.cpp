// PolicyManager::apply: a candidate source (new pushed rules) takes effect through the same
// background build, publish and commit as a reload, or not at all.

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

#include "kernel/evaluation_only_port.h"
#include "loop/event_loop.h"
#include "policy/policy_manager.h"
#include "rules/policy.h"

namespace cmdgate {
namespace {

class PolicyManagerApply : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/cmdgate-apply.XXXXXX";
    dir_ = ::mkdtemp(tmpl);
    std::ofstream(dir_ + "/local.toml") << "[[rule]]\nid = \"local\"\naction = \"deny\"\n"
                                           "path = \"/usr/bin/local\"\n";
    loop_ = std::move(EventLoop::create().value());
    store_ = std::make_unique<PolicyStore>(
        PolicySource{{dir_ + "/local.toml"}, std::nullopt, std::nullopt}, names_, files_);
    manager_ = std::make_unique<PolicyManager>(*store_, port_, *loop_);
    ASSERT_TRUE(manager_->start());
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }

  PolicySource with_pushed(const std::string& toml) {
    PolicySource s = store_->source();
    s.pushed = PushedRules{"web@1", {{"fleet:web@1/a.toml", toml}}, true, {}};
    return s;
  }
  std::vector<std::string> ids() const {
    std::vector<std::string> out;
    for (const auto& r : store_->current()->policy->rule_set().rules) {
      out.push_back(r.id);
    }
    return out;
  }

  std::string dir_;
  rules::SystemNameResolver names_;
  rules::SystemFileResolver files_;
  EvaluationOnlyPort port_;
  std::unique_ptr<EventLoop> loop_;
  std::unique_ptr<PolicyStore> store_;
  std::unique_ptr<PolicyManager> manager_;
};

TEST_F(PolicyManagerApply, GoodSourceIsPublishedAndAdopted) {
  std::optional<Status> applied, reloaded;
  std::vector<std::string> after_apply;
  manager_->apply(
      with_pushed("[[rule]]\nid = \"fleet\"\naction = \"deny\"\npath = \"/usr/bin/nc\"\n"), "test",
      [&](const Status& s) {
        applied = s;
        after_apply = ids();
        // Later reloads (a local file changed) keep the pushed layer.
        manager_->reload("test", [&](const Status& r) {
          reloaded = r;
          loop_->stop();
        });
      });
  loop_->run();
  ASSERT_TRUE(applied && *applied) << applied->error().message;
  EXPECT_EQ(after_apply, (std::vector<std::string>{"fleet", "local"}));
  ASSERT_TRUE(reloaded && *reloaded);
  EXPECT_EQ(ids(), (std::vector<std::string>{"fleet", "local"}));
  EXPECT_EQ(store_->current()->generation, 3u);
  EXPECT_EQ(port_.published_generation(), 3u);
  ASSERT_TRUE(store_->source().pushed);
}

TEST_F(PolicyManagerApply, BadSourceChangesNothingAndIsCounted) {
  std::optional<Status> s;
  manager_->apply(with_pushed("[[rule]]\nid = \"fleet\"\naction = \"nope\"\n"), "test",
                  [&](const Status& r) {
                    s = r;
                    loop_->stop();
                  });
  loop_->run();
  ASSERT_TRUE(s && !*s);
  EXPECT_TRUE(s->error().message.starts_with("fleet:web@1/a.toml:3:")) << s->error().message;
  EXPECT_EQ(store_->current()->generation, 1u);
  EXPECT_EQ(port_.published_generation(), 1u);
  EXPECT_EQ(ids(), std::vector<std::string>{"local"});
  EXPECT_FALSE(store_->source().pushed);
  EXPECT_EQ(manager_->stats().failures, 1u);
  EXPECT_EQ(manager_->stats().last_error, s->error().message);
}

}  // namespace
}  // namespace cmdgate
