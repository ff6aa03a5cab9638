#pragma once
// Summary statistics of a benchmark's samples, the same for every benchmark: nearest-rank
// percentiles (the smallest sample with at least p % of the samples at or below it).

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <numeric>
#include <vector>

namespace cmdgate::bench {

struct SampleStats {
  size_t n = 0;
  double mean = 0, p50 = 0, p99 = 0, max = 0;
};

inline double nearest_rank(const std::vector<double>& sorted, double percent) {
  const auto rank =
      static_cast<size_t>(std::ceil(percent / 100.0 * static_cast<double>(sorted.size())));
  return sorted[std::clamp<size_t>(rank, 1, sorted.size()) - 1];
}

inline SampleStats summarize(std::vector<double> v) {
  SampleStats s;
  s.n = v.size();
  if (v.empty()) {
    return s;
  }
  std::sort(v.begin(), v.end());
  s.mean = std::accumulate(v.begin(), v.end(), 0.0) / static_cast<double>(v.size());
  s.p50 = nearest_rank(v, 50);
  s.p99 = nearest_rank(v, 99);
  s.max = v.back();
  return s;
}

}  // namespace cmdgate::bench
