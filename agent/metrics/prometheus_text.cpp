#include "metrics/prometheus_text.h"

#include <fmt/format.h>

#include "metrics/metric_families.h"

namespace cmdgate {
namespace {

void render_decisions(const DecisionMetrics& d, std::string& out) {
  for (const auto& [key, n] : d.decisions()) {
    const auto& [action, outcome, rule] = key;
    out += fmt::format("{}{{action=\"{}\",outcome=\"{}\",rule=\"{}\"}} {}\n", kDecisionsFamily,
                       escape_label(action), escape_label(outcome), escape_label(rule), n);
  }
}

void render_latency(const DecisionMetrics& d, std::string& out) {
  for (size_t i = 0; i < DecisionMetrics::kBuckets.size(); ++i) {
    out += fmt::format("{}_bucket{{le=\"{}\"}} {}\n", kLatencyFamily, DecisionMetrics::kBuckets[i],
                       d.latency_buckets()[i]);
  }
  out += fmt::format("{}_bucket{{le=\"+Inf\"}} {}\n", kLatencyFamily, d.latency_buckets().back());
  out += fmt::format("{}_sum {}\n", kLatencyFamily, d.latency_sum());
  out += fmt::format("{}_count {}\n", kLatencyFamily, d.latency_count());
}

// The samples of one family fed from `cmdgate status`.
void render_status(const MetricFamily& f, const MetricsView& view, std::string& out) {
  const auto add = [&](StatusSource source, const auto& values) {
    for (const auto& [name, value] : values) {
      const MetricSeries* s = find_series(source, name);
      if (s == nullptr || s->family != f.name) {
        continue;
      }
      if (f.labels.empty()) {
        out += fmt::format("{} {}\n", f.name, value);
      } else {
        out += fmt::format("{}{{{}=\"{}\"}} {}\n", f.name, f.labels, s->label_value, value);
      }
    }
  };
  add(StatusSource::kCounters, view.counters);
  add(StatusSource::kFields, view.fields);
}

void render_unmapped(const MetricsView& view, std::string& out) {
  const auto add = [&](StatusSource source, const auto& values) {
    for (const auto& [name, value] : values) {
      if (find_series(source, name) == nullptr) {
        out += fmt::format("{}{{name=\"{}\"}} {}\n", kUnmappedFamily, escape_label(name), value);
      }
    }
  };
  add(StatusSource::kCounters, view.counters);
  add(StatusSource::kFields, view.fields);
}

}  // namespace

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
  for (const MetricFamily& f : metric_families()) {
    const bool decision_family = f.name == kDecisionsFamily || f.name == kLatencyFamily;
    if (decision_family && view.decisions == nullptr) {
      continue;
    }
    out += fmt::format("# HELP {} {}\n# TYPE {} {}\n", f.name, f.help, f.name, to_string(f.type));
    if (f.name == kDecisionsFamily) {
      render_decisions(*view.decisions, out);
    } else if (f.name == kLatencyFamily) {
      render_latency(*view.decisions, out);
    } else if (f.name == kUnmappedFamily) {
      render_unmapped(view, out);
    } else {
      render_status(f, view, out);
    }
  }
  return out;
}

}  // namespace cmdgate
