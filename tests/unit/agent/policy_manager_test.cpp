// PolicyManager::apply: a candidate source (new pushed rules) takes effect through the same
// background build, publish and commit as a reload, or not at all. The last-known-good copy of
// the local rule files is written from the loop, after the start that published the policy, or
// when the manager goes before the loop got to it.

#include "policy/policy_manager.h"

#include <gtest/gtest.h>
#include <hs/hs.h>
#include <fcntl.h>
#include <sys/mman.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include <filesystem>
#include <functional>
#include <fstream>

#include "common/fd.h"
#include "kernel/evaluation_only_port.h"
#include "loop/event_loop.h"
#include "policy/local_last_known_good.h"
#include "rules/compiled_policy.h"
#include "rules/policy.h"

namespace cmdgate {
namespace {

// Sees when the manager reads the ring.
class DrainWatchingPort final : public EvaluationOnlyPort {
 public:
  void drain() override {
    if (on_drain) {
      on_drain();
    }
  }
  std::function<void()> on_drain;
};

class PolicyManagerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/cmdgate-apply.XXXXXX";
    dir_ = ::mkdtemp(tmpl);
    std::ofstream(dir_ + "/local.toml") << kLocalRules;
    loop_ = std::move(EventLoop::create().value());
    store_ = std::make_unique<PolicyStore>(
        PolicySource{{dir_ + "/local.toml"}, std::nullopt, std::nullopt}, names_, files_);
    manager_ = std::make_unique<PolicyManager>(*store_, port_, *loop_);
    copy_ = std::make_unique<LocalLastKnownGood>(dir_ + "/state/local-rules.json");
    manager_->keep_local_copy(copy_.get());
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

  static constexpr const char* kLocalRules =
      "[[rule]]\nid = \"local\"\naction = \"deny\"\npath = \"/usr/bin/local\"\n";
  std::string dir_;
  std::unique_ptr<LocalLastKnownGood> copy_;
  rules::SystemNameResolver names_;
  rules::SystemFileResolver files_;
  DrainWatchingPort port_;
  std::unique_ptr<EventLoop> loop_;
  std::unique_ptr<PolicyStore> store_;
  std::unique_ptr<PolicyManager> manager_;
};

TEST_F(PolicyManagerTest, GoodSourceIsPublishedAndAdopted) {
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

TEST_F(PolicyManagerTest, BadSourceChangesNothingAndIsCounted) {
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

TEST_F(PolicyManagerTest, TheLoopSavesTheLocalCopyOnceTheStartIsDone) {
  EXPECT_FALSE(copy_->load()) << "saved before the start returned";
  loop_->at(std::chrono::steady_clock::now() + std::chrono::milliseconds(20),
            [&] { loop_->stop(); });
  loop_->run();
  auto saved = copy_->load();
  ASSERT_TRUE(saved) << saved.error().message;
  ASSERT_EQ(saved->files.size(), 1u);
  EXPECT_EQ(saved->files[0].text, kLocalRules);
}

TEST_F(PolicyManagerTest, AStopBeforeTheLoopRanStillSavesTheLocalCopy) {
  manager_->reload_soon("a reload the manager will not live to see");
  manager_.reset();
  // The loop outlives the manager: nothing of the manager's may run on it now.
  loop_->at(std::chrono::steady_clock::now() + PolicyManager::kQuietPeriod * 2,
            [&] { loop_->stop(); });
  loop_->run();
  auto saved = copy_->load();
  ASSERT_TRUE(saved) << saved.error().message;
  ASSERT_EQ(saved->files.size(), 1u);
  EXPECT_EQ(saved->files[0].text, kLocalRules);
}

// Records of the old generation still in the ring after a reload are judged by their own
// snapshot: the manager reads the ring once the kernel has switched, while it holds that snapshot,
// and only then lets it go (at 10,000 rules each one is megabytes).
TEST_F(PolicyManagerTest, AReloadReadsTheRingUnderTheOldSnapshotThenLetsItGo) {
  const uint32_t first = store_->current()->generation;
  std::weak_ptr<const Snapshot> old = store_->current_shared();
  std::vector<std::pair<bool, uint32_t>> at_drain;  // old snapshot held, generation current
  port_.on_drain = [&] {
    at_drain.emplace_back(store_->find(first) != nullptr, store_->current()->generation);
  };
  std::optional<Status> reloaded;
  manager_->reload("test", [&](const Status& s) {
    reloaded = s;
    loop_->stop();
  });
  loop_->run();
  ASSERT_TRUE(reloaded && *reloaded) << reloaded->error().message;
  EXPECT_EQ(at_drain, (std::vector<std::pair<bool, uint32_t>>{{true, first + 1}}));
  EXPECT_EQ(store_->find(first), nullptr);
  EXPECT_TRUE(old.expired());
  EXPECT_NE(store_->find(first + 1), nullptr);
}

// The steady-state engine is built on the compiler thread with its Hyperscan databases compiled
// in a forked child (MatchEngine::kHyperscanInChild) while the loop runs on this one; the result
// takes over the generation. The release build only: see engines_under_test() for why.
#ifndef CMDGATE_SANITIZED
// The page of code an address is on, as this process maps it: whether it is mapped now
// (/proc/self/pagemap, bit 63), and dropping it (a private file mapping: touching it again reads
// it back from the file).
class CodePage {
 public:
  explicit CodePage(const void* code)
      : page_(reinterpret_cast<uintptr_t>(code) & ~(uintptr_t{kPage} - 1)) {}
  [[nodiscard]] bool forget() const {
    return ::madvise(reinterpret_cast<void*>(page_), kPage, MADV_DONTNEED) == 0;
  }
  [[nodiscard]] bool mapped() const {
    uint64_t entry = 0;
    Fd pagemap(::open("/proc/self/pagemap", O_RDONLY | O_CLOEXEC));
    const auto at = static_cast<off_t>(page_ / kPage * sizeof entry);
    EXPECT_EQ(::pread(pagemap.get(), &entry, sizeof entry, at), static_cast<ssize_t>(sizeof entry))
        << "reading /proc/self/pagemap: " << std::strerror(errno);
    return (entry >> 63) != 0;
  }

 private:
  static constexpr size_t kPage = 4096;
  uintptr_t page_;
};

TEST_F(PolicyManagerTest, TheHyperscanBuildComesBackFromAChildAndTakesOver) {
  // Earlier tests in this process may have run the compiler here: forget its page, so that only
  // running it again brings it back.
  const CodePage compiler(reinterpret_cast<const void*>(&hs_compile_multi));
  ASSERT_TRUE(compiler.forget()) << std::strerror(errno);
  ASSERT_FALSE(compiler.mapped());
  std::ofstream(dir_ + "/local.toml") << "[[rule]]\nid = \"force\"\naction = \"ask\"\n"
                                         "args = '^--force(=.*)?$'\n"
                                         "[[rule]]\nid = \"pipe\"\naction = \"deny\"\n"
                                         "cmdline = 'curl .*\\| *sh'\n";
  const uint32_t first = store_->current()->generation;
  std::optional<Status> reloaded;
  manager_->reload("test", [&](const Status& s) { reloaded = s; });
  const auto give_up = std::chrono::steady_clock::now() + std::chrono::seconds(30);
  std::function<void()> poll = [&] {
    const Snapshot* now = store_->current();
    if ((now->generation > first && now->final_engine) ||
        std::chrono::steady_clock::now() > give_up) {
      loop_->stop();
      return;
    }
    loop_->at(std::chrono::steady_clock::now() + std::chrono::milliseconds(10), poll);
  };
  poll();
  loop_->run();
  ASSERT_TRUE(reloaded && *reloaded) << (reloaded ? reloaded->error().message : "no reload");
  const Snapshot* s = store_->current();
  ASSERT_GT(s->generation, first);
  ASSERT_TRUE(s->final_engine) << "no Hyperscan build in 30 s";
  const auto* compiled = dynamic_cast<const rules::CompiledPolicy*>(s->policy.get());
  ASSERT_NE(compiled, nullptr);
  EXPECT_EQ(compiled->stats().layout.patterns.hyperscan_patterns, 2u);
  EXPECT_EQ(compiled->stats().layout.patterns.re2_patterns, 0u);
  EXPECT_FALSE(compiler.mapped()) << "the compiler ran in this process";
}
#endif

// The first policy is read before the manager watches its files (on another thread while the
// BPF objects load): an edit in between raises no event, so the loop reads them again.
class FirstReadTest : public PolicyManagerTest {
 protected:
  // A second manager over its own file, started from a build made before `edit` ran.
  Status start_after(const std::function<void()>& edit, const std::string& rules = kLocalRules) {
    file_ = dir_ + "/second.toml";
    std::ofstream(file_) << rules;
    second_store_ = std::make_unique<PolicyStore>(PolicySource{{file_}, std::nullopt, std::nullopt},
                                                  names_, files_);
    second_ = std::make_unique<PolicyManager>(*second_store_, second_port_, *loop_);
    auto first = second_store_->build(rules::MatchEngine::kRe2);
    edit();
    second_->on_reload_end([&](const Status&) { loop_->stop(); });
    return second_->start(std::move(first), std::chrono::milliseconds(0));
  }
  // Runs the loop until a reload ends or long past the manager's quiet period.
  void run() {
    loop_->at(std::chrono::steady_clock::now() + PolicyManager::kQuietPeriod * 5,
              [&] { loop_->stop(); });
    loop_->run();
  }
  std::vector<std::string> second_ids() const {
    std::vector<std::string> out;
    for (const auto& r : second_store_->current()->policy->rule_set().rules) {
      out.push_back(r.id);
    }
    return out;
  }

  std::string file_;
  DrainWatchingPort second_port_;
  std::unique_ptr<PolicyStore> second_store_;
  std::unique_ptr<PolicyManager> second_;
};

TEST_F(FirstReadTest, AnEditBeforeTheWatchBeganIsReloaded) {
  ASSERT_TRUE(start_after([&] {
    std::ofstream(file_) << "[[rule]]\nid = \"edited\"\naction = \"deny\"\n"
                            "path = \"/usr/bin/edited\"\n";
  }));
  EXPECT_EQ(second_ids(), std::vector<std::string>{"local"});
  run();
  EXPECT_EQ(second_ids(), std::vector<std::string>{"edited"});
  EXPECT_EQ(second_store_->current()->generation, 2u);
}

TEST_F(FirstReadTest, FilesAsTheyWereReadReloadNothing) {
  ASSERT_TRUE(start_after([] {}));
  run();
  EXPECT_EQ(second_ids(), std::vector<std::string>{"local"});
  EXPECT_EQ(second_store_->current()->generation, 1u);
}

// A file a rule names, replaced after the build resolved it and before its directory was
// watched, raised no event; the check once the watch exists finds it (not the periodic one,
// which is 30 s away). The control leaves the file as it was resolved.
class NamedFileFirstReadTest : public FirstReadTest {
 protected:
  Status start_replacing(bool replace) {
    target_ = dir_ + "/target";
    std::ofstream(target_) << "one";
    return start_after(
        [&] {
          if (replace) {  // a new inode, renamed over the old: both exist at once
            std::ofstream(target_ + ".new") << "two";
            std::filesystem::rename(target_ + ".new", target_);
          }
        },
        "[[rule]]\nid = \"named\"\naction = \"deny\"\npath = \"" + target_ + "\"\n");
  }
  std::optional<rules::FileId> resolved() const {
    return second_store_->current()->policy->resolved_paths().of(0)[0].id;
  }
  std::string target_;
};

TEST_F(NamedFileFirstReadTest, AFileReplacedBeforeTheWatchBeganIsReloaded) {
  ASSERT_TRUE(start_replacing(true));
  const auto before = resolved();
  run();
  EXPECT_EQ(second_store_->current()->generation, 2u);
  EXPECT_NE(resolved(), before);
  EXPECT_EQ(resolved(), files_.identity(target_));
}

TEST_F(NamedFileFirstReadTest, AFileAsItWasResolvedReloadsNothing) {
  ASSERT_TRUE(start_replacing(false));
  run();
  EXPECT_EQ(second_store_->current()->generation, 1u);
  EXPECT_EQ(resolved(), files_.identity(target_));
}

}  // namespace
}  // namespace cmdgate
