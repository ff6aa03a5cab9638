#include "policy/policy_compiler.h"

#include <sys/eventfd.h>
#include <unistd.h>

#include "common/errno_error.h"

namespace cmdgate {

Result<std::unique_ptr<PolicyCompiler>> PolicyCompiler::start(EventLoop& loop) {
  std::unique_ptr<PolicyCompiler> c(new PolicyCompiler(loop));
  c->done_.reset(::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK));
  if (!c->done_) {
    return errno_error("eventfd");
  }
  if (auto s = loop.watch(c->done_.get(), [p = c.get()] { p->deliver(); }); !s) {
    return s.error();
  }
  c->worker_ = std::thread([p = c.get()] { p->run(); });
  return c;
}

PolicyCompiler::~PolicyCompiler() {
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
  }
  wake_.notify_all();
  if (worker_.joinable()) {
    worker_.join();
  }
  loop_.unwatch(done_.get());
}

void PolicyCompiler::submit(Work work) {
  {
    std::lock_guard lock(mutex_);
    queue_.push_back(std::move(work));
  }
  wake_.notify_one();
}

void PolicyCompiler::run() {
  for (;;) {
    Work work;
    {
      std::unique_lock lock(mutex_);
      wake_.wait(lock, [this] { return stopping_ || !queue_.empty(); });
      if (stopping_) {
        return;
      }
      work = std::move(queue_.front());
      queue_.pop_front();
    }
    std::function<void()> then = work();
    // What only the work kept (a snapshot it compiled from: megabytes at 10,000 rules) is freed
    // before its result runs: the loop gives free memory back to the system then, not later.
    work = nullptr;
    {
      std::lock_guard lock(mutex_);
      results_.push_back(std::move(then));
    }
    const uint64_t one = 1;
    [[maybe_unused]] ssize_t w = ::write(done_.get(), &one, sizeof(one));
  }
}

void PolicyCompiler::deliver() {
  uint64_t n = 0;
  [[maybe_unused]] ssize_t r = ::read(done_.get(), &n, sizeof(n));
  std::deque<std::function<void()>> ready;
  {
    std::lock_guard lock(mutex_);
    ready.swap(results_);
  }
  for (auto& fn : ready) {
    fn();
  }
}

}  // namespace cmdgate
