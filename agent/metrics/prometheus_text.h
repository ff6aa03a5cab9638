#pragma once
// The Prometheus text exposition format (version 0.0.4) for cmdgated's metrics.

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "metrics/metrics.h"

namespace cmdgate {

struct MetricsView {
  const DecisionMetrics* decisions = nullptr;
  // name -> value; names ending in "_total" are counters, the rest gauges. Names are already
  // valid Prometheus names ([a-zA-Z_:][a-zA-Z0-9_:]*).
  std::vector<std::pair<std::string, uint64_t>> values;
};

[[nodiscard]] std::string render_prometheus(const MetricsView& view);

// A label value as the format wants it: \, " and newline escaped.
[[nodiscard]] std::string escape_label(std::string_view v);

}  // namespace cmdgate
