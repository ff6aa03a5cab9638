#include "loop/event_loop.h"

#include <spdlog/spdlog.h>
#include <sys/epoll.h>
#include <sys/timerfd.h>
#include <unistd.h>

#include <cstring>
#include <vector>

#include "common/errno_error.h"

namespace cmdgate {

Result<std::unique_ptr<EventLoop>> EventLoop::create() {
  std::unique_ptr<EventLoop> loop(new EventLoop());
  loop->epoll_.reset(::epoll_create1(EPOLL_CLOEXEC));
  loop->timerfd_.reset(::timerfd_create(CLOCK_MONOTONIC, TFD_CLOEXEC | TFD_NONBLOCK));
  if (!loop->epoll_ || !loop->timerfd_) {
    return errno_error("creating the event loop");
  }
  epoll_event ev{};
  ev.events = EPOLLIN;
  ev.data.fd = loop->timerfd_.get();
  if (::epoll_ctl(loop->epoll_.get(), EPOLL_CTL_ADD, loop->timerfd_.get(), &ev) != 0) {
    return errno_error("epoll_ctl(timerfd)");
  }
  return loop;
}

Status EventLoop::watch(int fd, Callback on_readable) {
  return watch_events(fd, EPOLLIN, [fn = std::move(on_readable)](uint32_t) { fn(); });
}

Status EventLoop::watch_events(int fd, uint32_t events, IoCallback on_events) {
  epoll_event ev{};
  ev.events = events;
  ev.data.fd = fd;
  if (::epoll_ctl(epoll_.get(), EPOLL_CTL_ADD, fd, &ev) != 0) {
    return errno_error("epoll_ctl(add)");
  }
  fds_[fd] = std::move(on_events);
  return {};
}

void EventLoop::modify(int fd, uint32_t events) {
  epoll_event ev{};
  ev.events = events;
  ev.data.fd = fd;
  ::epoll_ctl(epoll_.get(), EPOLL_CTL_MOD, fd, &ev);
}

void EventLoop::unwatch(int fd) {
  ::epoll_ctl(epoll_.get(), EPOLL_CTL_DEL, fd, nullptr);
  fds_.erase(fd);
}

void EventLoop::every(std::chrono::nanoseconds interval, Callback fn) {
  timers_[next_timer_++] = {std::chrono::steady_clock::now() + interval, interval, std::move(fn)};
  arm();
}

EventLoop::TimerId EventLoop::at(TimePoint when, Callback fn) {
  const TimerId id = next_timer_++;
  timers_[id] = {when, std::chrono::nanoseconds(0), std::move(fn)};
  arm();
  return id;
}

void EventLoop::cancel(TimerId id) {
  timers_.erase(id);
  arm();
}

void EventLoop::arm() {
  itimerspec its{};
  if (!timers_.empty()) {
    TimePoint earliest = TimePoint::max();
    for (const auto& [id, t] : timers_) {
      earliest = std::min(earliest, t.when);
    }
    const auto ns = std::chrono::duration_cast<std::chrono::nanoseconds>(
                        earliest.time_since_epoch())
                        .count();
    // Absolute CLOCK_MONOTONIC time; steady_clock is CLOCK_MONOTONIC on Linux. Zero disarms,
    // so never pass it.
    its.it_value.tv_sec = ns / 1000000000;
    its.it_value.tv_nsec = std::max<int64_t>(ns % 1000000000, 1);
  }
  ::timerfd_settime(timerfd_.get(), TFD_TIMER_ABSTIME, &its, nullptr);
}

void EventLoop::fire_timers() {
  uint64_t expirations = 0;
  [[maybe_unused]] const ssize_t r = ::read(timerfd_.get(), &expirations, sizeof(expirations));
  const TimePoint now = std::chrono::steady_clock::now();
  std::vector<TimerId> due;
  for (const auto& [id, t] : timers_) {
    if (t.when <= now) {
      due.push_back(id);
    }
  }
  for (TimerId id : due) {
    auto it = timers_.find(id);
    if (it == timers_.end()) {
      continue;  // cancelled by an earlier callback
    }
    Callback fn = it->second.fn;
    if (it->second.interval.count() > 0) {
      it->second.when = now + it->second.interval;
    } else {
      timers_.erase(it);
    }
    fn();
  }
  arm();
}

void EventLoop::run() {
  epoll_event events[16];
  while (!stopping_) {
    const int n = ::epoll_wait(epoll_.get(), events, 16, -1);
    if (n < 0) {
      if (errno == EINTR) {
        continue;
      }
      spdlog::critical("epoll_wait: {}", std::strerror(errno));
      return;
    }
    for (int i = 0; i < n && !stopping_; ++i) {
      const int fd = events[i].data.fd;
      if (fd == timerfd_.get()) {
        fire_timers();
        continue;
      }
      auto it = fds_.find(fd);
      if (it != fds_.end()) {
        IoCallback fn = it->second;  // the callback may unwatch itself
        fn(events[i].events);
      }
    }
  }
}

}  // namespace cmdgate
