#pragma once
// Reconnect delays: exponential from `min` to `max`, each drawn uniformly from [d/2, d] so that
// a fleet cut off by one broker outage does not come back in lockstep.

#include <chrono>
#include <cstdint>
#include <random>

namespace cmdgate::fleet {

class Backoff {
 public:
  Backoff(std::chrono::milliseconds min, std::chrono::milliseconds max, uint64_t seed)
      : min_(min), max_(std::max(min, max)), rng_(seed) {}

  // The delay before the next attempt; each call doubles the ceiling until `max`.
  std::chrono::milliseconds next() {
    const auto ceiling = std::min(max_, min_ * (int64_t{1} << std::min(attempts_, 30u)));
    ++attempts_;
    std::uniform_int_distribution<int64_t> d(ceiling.count() / 2, ceiling.count());
    return std::chrono::milliseconds(d(rng_));
  }
  // A connection succeeded: start again from `min`.
  void reset() { attempts_ = 0; }

 private:
  std::chrono::milliseconds min_;
  std::chrono::milliseconds max_;
  uint32_t attempts_ = 0;
  std::mt19937_64 rng_;
};

}  // namespace cmdgate::fleet
