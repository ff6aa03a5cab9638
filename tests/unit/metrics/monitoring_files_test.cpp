// The shipped Grafana dashboard and Prometheus alert rules (packaging/monitoring/) name only
// metrics the exporter writes, with their labels and label values: the names come from the
// exporter's table, so renaming a metric there breaks this test until the files follow.

#include <gtest/gtest-spi.h>
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <fstream>
#include <map>
#include <regex>
#include <set>
#include <sstream>

#include "metrics/metric_families.h"
#include "processes.h"
#include "rules/model.h"

namespace cmdgate {
namespace {

std::string read(const std::string& relative) {
  std::string text = test::read_file(std::string(CMDGATE_SOURCE_DIR) + "/" + relative);
  EXPECT_FALSE(text.empty()) << relative;
  return text;
}

// The PromQL expressions of a Prometheus rules file: each `expr:` value, on its line or, after
// `|` or `>`, the more indented lines below it. (promtool would do this, but the prometheus
// package is too large for CI.)
std::vector<std::string> alert_exprs(const std::string& yaml) {
  std::vector<std::string> out;
  std::istringstream lines(yaml);
  const std::regex expr(R"(^(\s*)-?\s*expr:\s*(.*)$)");
  std::string line;
  std::smatch m;
  while (std::getline(lines, line)) {
    if (!std::regex_match(line, m, expr)) {
      continue;
    }
    std::string value = m[2];
    if (value == "|" || value == ">" || value == "|-" || value == ">-") {
      const size_t indent = m[1].length();
      value.clear();
      std::streampos before = lines.tellg();
      while (std::getline(lines, line)) {
        const size_t first = line.find_first_not_of(' ');
        if (first != std::string::npos && first <= indent) {
          lines.seekg(before);
          break;
        }
        value += line + "\n";
        before = lines.tellg();
      }
    }
    out.push_back(value);
  }
  return out;
}

void exprs_in(const nlohmann::json& j, std::vector<std::string>& out) {
  if (j.is_object()) {
    for (const auto& [key, value] : j.items()) {
      if (key == "expr" && value.is_string()) {
        out.push_back(value);
      } else {
        exprs_in(value, out);
      }
    }
  } else if (j.is_array()) {
    for (const auto& e : j) {
      exprs_in(e, out);
    }
  }
}

// Labels a query may select on that the exporter does not write: Prometheus adds them.
const std::set<std::string> kTargetLabels = {"instance", "job"};

struct Use {
  std::string family;
  std::map<std::string, std::string> equal;  // label = "value" matchers
  std::set<std::string> labels;              // every label matched
};

// Every cmdgate_* metric an expression names, with its label matchers.
std::vector<Use> uses(const std::string& expr) {
  std::vector<Use> out;
  const std::regex metric(R"(cmdgate_[a-zA-Z0-9_:]*)");
  const std::regex matcher(R"re(\s*([a-zA-Z_][a-zA-Z0-9_]*)\s*(=~|!~|!=|=)\s*"([^"]*)"\s*)re");
  for (auto it = std::sregex_iterator(expr.begin(), expr.end(), metric);
       it != std::sregex_iterator(); ++it) {
    Use u;
    u.family = it->str();
    for (const char* suffix : {"_bucket", "_sum", "_count"}) {
      const std::string base = u.family.substr(0, u.family.size() - std::string(suffix).size());
      const MetricFamily* f = find_family(base);
      if (u.family.ends_with(suffix) && f != nullptr && f->type == MetricType::kHistogram) {
        u.family = base;
      }
    }
    const size_t end = static_cast<size_t>(it->position() + it->length());
    if (end < expr.size() && expr[end] == '{') {
      const size_t close = expr.find('}', end);
      EXPECT_NE(close, std::string::npos) << expr;
      std::stringstream selectors(expr.substr(end + 1, close - end - 1));
      for (std::string one; std::getline(selectors, one, ',');) {
        std::smatch m;
        EXPECT_TRUE(std::regex_match(one, m, matcher)) << "matcher '" << one << "' in " << expr;
        u.labels.insert(m[1]);
        if (m[2] == "=") {
          u.equal[m[1]] = m[3];
        }
      }
    }
    out.push_back(std::move(u));
  }
  return out;
}

std::set<std::string> family_labels(const MetricFamily& f) {
  std::set<std::string> out;
  std::stringstream names{std::string(f.labels)};
  for (std::string n; std::getline(names, n, ',');) {
    out.insert(n);
  }
  return out;
}

// The label values a family's series can carry, where the table knows them all.
std::set<std::string> label_values(const MetricFamily& f) {
  std::set<std::string> out;
  for (const MetricSeries& s : metric_series()) {
    if (s.family == f.name) {
      out.insert(std::string(s.label_value));
    }
  }
  return out;
}

// The families named, after checking each use against the table.
std::set<std::string> check(const std::vector<std::string>& exprs, const std::string& file) {
  std::set<std::string> named;
  for (const std::string& expr : exprs) {
    for (const Use& u : uses(expr)) {
      const MetricFamily* f = find_family(u.family);
      if (f == nullptr) {
        ADD_FAILURE() << file << ": " << u.family << " is not exported (in: " << expr << ")";
        continue;
      }
      named.insert(u.family);
      const std::set<std::string> labels = family_labels(*f);
      for (const std::string& l : u.labels) {
        EXPECT_TRUE(labels.contains(l) || kTargetLabels.contains(l))
            << file << ": " << u.family << " has no label '" << l << "'";
      }
      const std::set<std::string> values = label_values(*f);
      for (const auto& [label, value] : u.equal) {
        if (u.family == kDecisionsFamily && label == "action") {
          EXPECT_TRUE(rules::kActionWords.parse(value).has_value()) << file << ": " << value;
        } else if (!kTargetLabels.contains(label) && !values.empty()) {
          EXPECT_TRUE(values.contains(value))
              << file << ": " << u.family << " has no series " << label << "=\"" << value << "\"";
        }
      }
    }
  }
  return named;
}

TEST(MonitoringFiles, AlertRulesNameExportedMetrics) {
  const std::string file = "packaging/monitoring/cmdgate-alerts.yml";
  const std::vector<std::string> exprs = alert_exprs(read(file));
  ASSERT_GE(exprs.size(), 4u);
  const std::set<std::string> named = check(exprs, file);
  // What the alerts are for: drops, a stale daemon, pending requests, reload failures.
  for (const char* family : {"cmdgate_dropped_total", "cmdgate_uptime_seconds",
                             "cmdgate_kernel_daemon_stale_total", "cmdgate_parked",
                             "cmdgate_reload_failures_total"}) {
    EXPECT_TRUE(named.contains(family)) << family;
  }
}

TEST(MonitoringFiles, DashboardNamesExportedMetrics) {
  const std::string file = "packaging/monitoring/cmdgate-dashboard.json";
  const auto dashboard = nlohmann::json::parse(read(file), nullptr, false);
  ASSERT_FALSE(dashboard.is_discarded()) << file << " is not JSON";
  std::vector<std::string> exprs;
  exprs_in(dashboard, exprs);
  ASSERT_GE(exprs.size(), 4u);
  check(exprs, file);
}

// The checker itself: a name the exporter does not write, a label it does not have, and a label
// value no series has are each caught.
TEST(MonitoringFiles, TheCheckCatchesUnknownNamesLabelsAndValues) {
  EXPECT_NONFATAL_FAILURE(check({"rate(cmdgate_kernel_kernel_allow_total[5m])"}, "x"),
                          "is not exported");
  EXPECT_NONFATAL_FAILURE(check({"cmdgate_dropped_total{reason=\"journal\"}"}, "x"),
                          "has no label 'reason'");
  EXPECT_NONFATAL_FAILURE(check({"cmdgate_dropped_total{where=\"ringbuf\"}"}, "x"),
                          "has no series");
  EXPECT_EQ(check({"histogram_quantile(0.9, rate(cmdgate_decision_latency_seconds_bucket[5m]))"},
                  "x"),
            std::set<std::string>{"cmdgate_decision_latency_seconds"});
}

// docs/operations.md lists every family.
TEST(MonitoringFiles, OperationsGuideListsEveryFamily) {
  const std::string doc = read("docs/operations.md");
  for (const MetricFamily& f : metric_families()) {
    EXPECT_NE(doc.find("`" + std::string(f.name) + "`"), std::string::npos) << f.name;
  }
}

}  // namespace
}  // namespace cmdgate
