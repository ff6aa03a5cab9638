#pragma once
// The Prometheus text exposition format (version 0.0.4) for cmdgated's metrics: every family of
// metric_families.h with its HELP and TYPE, in that table's order.

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "metrics/metrics.h"

namespace cmdgate {

struct MetricsView {
  const DecisionMetrics* decisions = nullptr;
  // What `cmdgate status` shows, by name: Status.counters, and the Status fields of
  // StatusSource::kFields. A value without a series (metric_series()) is still rendered, in
  // kUnmappedFamily under its status name.
  std::vector<std::pair<std::string, uint64_t>> counters;
  std::vector<std::pair<std::string, uint64_t>> fields;
};

[[nodiscard]] std::string render_prometheus(const MetricsView& view);

// A label value as the format wants it: \, " and newline escaped.
[[nodiscard]] std::string escape_label(std::string_view v);

}  // namespace cmdgate
