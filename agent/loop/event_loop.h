#pragma once
// The daemon's single-threaded event loop: file descriptors (epoll) and timers (one timerfd
// armed to the earliest deadline). Callbacks run on the loop thread, one at a time.

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <unordered_map>

#include "common/fd.h"
#include "common/result.h"

namespace cmdgate {

class EventLoop {
 public:
  using Callback = std::function<void()>;
  using TimePoint = std::chrono::steady_clock::time_point;
  using TimerId = uint64_t;

  [[nodiscard]] static Result<std::unique_ptr<EventLoop>> create();

  using IoCallback = std::function<void(uint32_t events)>;

  // Calls on_readable whenever fd is readable (level-triggered).
  [[nodiscard]] Status watch(int fd, Callback on_readable);
  // Calls on_events with the epoll events (EPOLLIN, EPOLLOUT, EPOLLHUP, ...) that occurred.
  [[nodiscard]] Status watch_events(int fd, uint32_t events, IoCallback on_events);
  // Changes which events a watched fd waits for.
  void modify(int fd, uint32_t events);
  void unwatch(int fd);

  // Runs fn every interval (first run one interval from now). Never cancelled.
  void every(std::chrono::nanoseconds interval, Callback fn);
  // Runs fn once at `when` unless cancelled first.
  TimerId at(TimePoint when, Callback fn);
  void cancel(TimerId id);

  // Runs until stop() is called from a callback.
  void run();
  void stop() { stopping_ = true; }

 private:
  EventLoop() = default;
  void arm();
  void fire_timers();

  struct Timer {
    TimePoint when;
    std::chrono::nanoseconds interval{0};  // 0: one-shot
    Callback fn;
  };

  Fd epoll_;
  Fd timerfd_;
  std::unordered_map<int, IoCallback> fds_;
  std::map<TimerId, Timer> timers_;
  TimerId next_timer_ = 1;
  bool stopping_ = false;
};

}  // namespace cmdgate
