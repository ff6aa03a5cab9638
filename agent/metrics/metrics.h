#pragma once
// What cmdgated counts about itself, beyond the kernel's counters: decisions by action, outcome
// and rule, and a histogram of the daemon's decision latency. Fed on the event loop from every
// decision record; rendered as Prometheus text (prometheus_text.h).

#include <array>
#include <cstdint>
#include <map>
#include <string>
#include <tuple>

#include "log/decision_record.h"

namespace cmdgate {

class DecisionMetrics {
 public:
  // Upper bounds of the latency buckets, in seconds (Prometheus "le").
  static constexpr std::array<double, 14> kBuckets = {10e-6,  25e-6, 50e-6, 100e-6, 250e-6,
                                                      500e-6, 1e-3,  2.5e-3, 5e-3,  10e-3,
                                                      25e-3,  0.1,   1.0,   10.0};

  void observe(const DecisionRecord& r);

  using Key = std::tuple<std::string, std::string, std::string>;  // action, outcome, rule
  [[nodiscard]] const std::map<Key, uint64_t>& decisions() const { return decisions_; }
  // Cumulative counts per bucket (the last is +Inf), sum in seconds, count.
  [[nodiscard]] const std::array<uint64_t, kBuckets.size() + 1>& latency_buckets() const {
    return buckets_;
  }
  [[nodiscard]] double latency_sum() const { return sum_; }
  [[nodiscard]] uint64_t latency_count() const { return count_; }

 private:
  std::map<Key, uint64_t> decisions_;
  std::array<uint64_t, kBuckets.size() + 1> buckets_{};
  double sum_ = 0;
  uint64_t count_ = 0;
};

}  // namespace cmdgate
