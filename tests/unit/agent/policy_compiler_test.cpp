// PolicyCompiler: work runs on the worker, its result on the loop, and what the work captured is
// gone before the result runs (the loop trims the heap then: a snapshot freed afterwards by the
// worker would stay resident).

#include "policy/policy_compiler.h"

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <memory>
#include <thread>

namespace cmdgate {
namespace {

// Marks its own end, slowly: a worker that released it only after handing over the result would
// let the loop run the result first.
struct SlowToFree {
  explicit SlowToFree(std::atomic<bool>& freed) : freed(freed) {}
  ~SlowToFree() {
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
    freed = true;
  }
  std::atomic<bool>& freed;
};

TEST(PolicyCompilerTest, TheWorkIsFreedBeforeItsResultRuns) {
  auto loop = EventLoop::create();
  ASSERT_TRUE(loop);
  auto compiler = PolicyCompiler::start(**loop);
  ASSERT_TRUE(compiler);
  std::atomic<bool> freed = false;
  std::optional<bool> freed_when_result_ran;
  std::thread::id ran_on;
  auto captured = std::make_shared<SlowToFree>(freed);
  (*compiler)->submit([captured = std::move(captured), &ran_on, &freed, &freed_when_result_ran,
                       &loop]() mutable -> std::function<void()> {
    ran_on = std::this_thread::get_id();
    return [&] {
      freed_when_result_ran = freed.load();
      (*loop)->stop();
    };
  });
  (*loop)->at(std::chrono::steady_clock::now() + std::chrono::seconds(10), [&] { (*loop)->stop(); });
  (*loop)->run();
  ASSERT_TRUE(freed_when_result_ran.has_value()) << "no result in 10 s";
  EXPECT_TRUE(*freed_when_result_ran);
  EXPECT_NE(ran_on, std::this_thread::get_id());
}

}  // namespace
}  // namespace cmdgate
