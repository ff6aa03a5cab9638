#pragma once
// Compiles policies on a worker thread, so that a large rule set (seconds for Hyperscan at 100k
// rules) never stalls the event loop, its heartbeat or its decisions. Results come back on the
// event loop through an eventfd.

#include <condition_variable>
#include <deque>
#include <functional>
#include <mutex>
#include <thread>

#include "common/fd.h"
#include "loop/event_loop.h"

namespace cmdgate {

class PolicyCompiler {
 public:
  using Work = std::function<std::function<void()>()>;  // runs on the worker, returns what to
                                                        // run on the loop afterwards

  [[nodiscard]] static Result<std::unique_ptr<PolicyCompiler>> start(EventLoop& loop);
  ~PolicyCompiler();
  PolicyCompiler(const PolicyCompiler&) = delete;
  PolicyCompiler& operator=(const PolicyCompiler&) = delete;

  void submit(Work work);

 private:
  explicit PolicyCompiler(EventLoop& loop) : loop_(loop) {}
  void run();
  void deliver();

  EventLoop& loop_;
  Fd done_;  // eventfd
  std::mutex mutex_;
  std::condition_variable wake_;
  std::deque<Work> queue_;                    // guarded by mutex_
  std::deque<std::function<void()>> results_;  // guarded by mutex_
  bool stopping_ = false;                     // guarded by mutex_
  std::thread worker_;
};

}  // namespace cmdgate
