#include "approval/off_loop.h"

#include <sys/eventfd.h>
#include <unistd.h>

#include <condition_variable>
#include <deque>
#include <mutex>
#include <system_error>
#include <thread>

#include "common/errno_error.h"
#include "common/fd.h"

namespace cmdgate {

struct OffLoopShared {
  explicit OffLoopShared(Fd fd) : event(std::move(fd)) {}
  const Fd event;  // readable while callbacks wait
  std::mutex mutex;
  std::condition_variable idle;
  // Guarded by mutex:
  std::deque<std::function<void()>> ready;
  size_t running = 0;
  bool closed = false;  // the OffLoop is gone: posts are dropped
};

namespace {

// Long enough for a thread whose conversation was cancelled to leave PAM, short enough not to
// hold up a daemon's stop behind a module that hangs.
constexpr auto kStopGrace = std::chrono::seconds(3);

void post_to(const std::shared_ptr<OffLoopShared>& s, std::function<void()> fn) {
  std::function<void()> dropped;  // destroyed outside the lock
  {
    std::lock_guard lock(s->mutex);
    if (s->closed) {
      dropped = std::move(fn);
    } else {
      s->ready.push_back(std::move(fn));
    }
  }
  if (!dropped) {
    const uint64_t one = 1;
    [[maybe_unused]] ssize_t n = ::write(s->event.get(), &one, sizeof(one));
  }
}

}  // namespace

Result<std::unique_ptr<OffLoop>> OffLoop::create(size_t max_threads) {
  Fd fd(::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK));
  if (!fd) {
    return errno_error("eventfd");
  }
  return std::unique_ptr<OffLoop>(
      new OffLoop(std::make_shared<OffLoopShared>(std::move(fd)), max_threads));
}

OffLoop::~OffLoop() {
  std::deque<std::function<void()>> dropped;
  std::unique_lock lock(shared_->mutex);
  shared_->closed = true;
  dropped.swap(shared_->ready);
  shared_->idle.wait_for(lock, kStopGrace, [&] { return shared_->running == 0; });
}

bool OffLoop::run(Work work) {
  {
    std::lock_guard lock(shared_->mutex);
    if (shared_->running >= max_threads_) {
      return false;
    }
    ++shared_->running;
  }
  try {
    std::thread([s = shared_, work = std::move(work)] {
      work([&s](std::function<void()> fn) { post_to(s, std::move(fn)); });
      std::lock_guard lock(s->mutex);
      --s->running;
      s->idle.notify_all();
    }).detach();
  } catch (const std::system_error&) {
    std::lock_guard lock(shared_->mutex);
    --shared_->running;
    return false;
  }
  return true;
}

int OffLoop::fd() const {
  return shared_->event.get();
}

void OffLoop::drain() {
  uint64_t count = 0;
  [[maybe_unused]] ssize_t n = ::read(shared_->event.get(), &count, sizeof(count));
  std::deque<std::function<void()>> ready;
  {
    std::lock_guard lock(shared_->mutex);
    ready.swap(shared_->ready);
  }
  for (auto& fn : ready) {
    fn();
  }
}

size_t OffLoop::running() const {
  std::lock_guard lock(shared_->mutex);
  return shared_->running;
}

}  // namespace cmdgate
