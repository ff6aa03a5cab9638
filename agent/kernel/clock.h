#pragma once
// CLOCK_MONOTONIC, the clock of bpf_ktime_get_ns() and of std::chrono::steady_clock on Linux.

#include <time.h>

#include <chrono>
#include <cstdint>

namespace cmdgate {

class Clock {
 public:
  virtual ~Clock() = default;
  [[nodiscard]] virtual uint64_t monotonic_ns() const = 0;
  [[nodiscard]] std::chrono::steady_clock::time_point steady() const {
    return std::chrono::steady_clock::time_point(std::chrono::nanoseconds(monotonic_ns()));
  }
};

class SystemClock final : public Clock {
 public:
  uint64_t monotonic_ns() const override {
    timespec ts{};
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return static_cast<uint64_t>(ts.tv_sec) * 1000000000ull + static_cast<uint64_t>(ts.tv_nsec);
  }
};

}  // namespace cmdgate
