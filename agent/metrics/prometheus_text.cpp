#include "metrics/prometheus_text.h"

#include <fmt/format.h>

namespace cmdgate {

std::string escape_label(std::string_view v) {
  std::string out;
  out.reserve(v.size());
  for (char c : v) {
    if (c == '\\' || c == '"') {
      out += '\\';
      out += c;
    } else if (c == '\n') {
      out += "\\n";
    } else {
      out += c;
    }
  }
  return out;
}

std::string render_prometheus(const MetricsView& view) {
  std::string out;
  for (const auto& [name, value] : view.values) {
    const bool counter = name.ends_with("_total");
    out += fmt::format("# TYPE cmdgate_{} {}\ncmdgate_{} {}\n", name, counter ? "counter" : "gauge",
                       name, value);
  }
  if (view.decisions == nullptr) {
    return out;
  }
  const DecisionMetrics& d = *view.decisions;
  out += "# HELP cmdgate_decisions_total Exec decisions by rule action, outcome and rule id.\n";
  out += "# TYPE cmdgate_decisions_total counter\n";
  for (const auto& [key, n] : d.decisions()) {
    const auto& [action, outcome, rule] = key;
    out += fmt::format("cmdgate_decisions_total{{action=\"{}\",outcome=\"{}\",rule=\"{}\"}} {}\n",
                       escape_label(action), escape_label(outcome), escape_label(rule), n);
  }
  out += "# HELP cmdgate_decision_latency_seconds From the kernel's record to the daemon's "
         "verdict.\n";
  out += "# TYPE cmdgate_decision_latency_seconds histogram\n";
  for (size_t i = 0; i < DecisionMetrics::kBuckets.size(); ++i) {
    out += fmt::format("cmdgate_decision_latency_seconds_bucket{{le=\"{}\"}} {}\n",
                       DecisionMetrics::kBuckets[i], d.latency_buckets()[i]);
  }
  out += fmt::format("cmdgate_decision_latency_seconds_bucket{{le=\"+Inf\"}} {}\n",
                     d.latency_buckets().back());
  out += fmt::format("cmdgate_decision_latency_seconds_sum {}\n", d.latency_sum());
  out += fmt::format("cmdgate_decision_latency_seconds_count {}\n", d.latency_count());
  return out;
}

}  // namespace cmdgate
