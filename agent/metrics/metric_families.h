#pragma once
// Every metric family cmdgated exports, with its help text, and where each of the daemon's
// counters goes: the one table the exporter renders from, and that the shipped dashboard and
// alert rules are tested against (packaging/monitoring/). Names and their history:
// docs/operations.md, "Metrics".

#include <span>
#include <string_view>

namespace cmdgate {

enum class MetricType { kCounter, kGauge, kHistogram };

struct MetricFamily {
  std::string_view name;   // full name, "cmdgate_..."
  MetricType type;
  std::string_view help;   // one line
  // Its label names, comma-separated: for a family fed from `cmdgate status`, the one label
  // telling its series apart ("" for a single series); "le" for the histogram.
  std::string_view labels;
};

// Where a value of `cmdgate status` is exported.
enum class StatusSource {
  kCounters,  // a key of Status.counters
  kFields,    // a field of Status: parked, generation, rules, reloads, ...
};
struct MetricSeries {
  StatusSource source;
  std::string_view status_name;  // as `cmdgate status` shows it
  std::string_view family;
  std::string_view label_value;  // "" for a family without label
};

// In the order they are rendered.
[[nodiscard]] std::span<const MetricFamily> metric_families();
[[nodiscard]] std::span<const MetricSeries> metric_series();
[[nodiscard]] const MetricFamily* find_family(std::string_view name);
[[nodiscard]] const MetricSeries* find_series(StatusSource source, std::string_view status_name);
[[nodiscard]] std::string_view to_string(MetricType t);

// The families not fed from `cmdgate status` (DecisionMetrics), and the one a counter without
// a series of its own is exported in, under its status name, so that it is never lost.
inline constexpr std::string_view kDecisionsFamily = "cmdgate_decisions_total";
inline constexpr std::string_view kLatencyFamily = "cmdgate_decision_latency_seconds";
inline constexpr std::string_view kUnmappedFamily = "cmdgate_unmapped_counters_total";

}  // namespace cmdgate
