#pragma once
// Waits until a descriptor can be read (or has hung up) or a deadline passes, through
// interrupted waits.

#include <poll.h>

#include <cerrno>
#include <chrono>

namespace cmdgate {

// 1: readable, 0: the deadline passed, -1: poll failed (errno says why).
[[nodiscard]] inline int wait_readable(int fd, std::chrono::steady_clock::time_point deadline) {
  for (;;) {
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
        deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0) {
      return 0;
    }
    pollfd p{fd, POLLIN, 0};
    const int ready = ::poll(&p, 1, static_cast<int>(left.count()));
    if (ready < 0 && errno == EINTR) {
      continue;
    }
    return ready;
  }
}

}  // namespace cmdgate
