#include "metrics/prometheus_text.h"

#include <gtest/gtest.h>

#include <map>
#include <regex>
#include <set>
#include <sstream>

#include "metrics/metric_families.h"
#include "pipeline/exec_pipeline.h"
#include "rules/model.h"

namespace cmdgate {
namespace {

DecisionMetrics two_denials(const rules::Rule& rule) {
  Judgement j;
  j.decision.action = rules::Action::kDeny;
  j.decision.rule = &rule;
  ExecEvent e;
  DecisionRecord r;
  r.event = &e;
  r.judgement = &j;
  r.outcome = Outcome::kDenied;
  r.decided_by = DecidedBy::kDaemon;
  r.latency_ns = 40'000;  // 40 us
  DecisionMetrics m;
  m.observe(r);
  r.latency_ns = 3'000'000;  // 3 ms
  m.observe(r);
  r.decided_by = DecidedBy::kKernel;  // not a daemon latency
  m.observe(r);
  return m;
}

// A view with a value for every series of the table, each value its position.
MetricsView every_series(const DecisionMetrics* m) {
  MetricsView view;
  view.decisions = m;
  uint64_t n = 0;
  for (const MetricSeries& s : metric_series()) {
    auto& values = s.source == StatusSource::kCounters ? view.counters : view.fields;
    values.emplace_back(std::string(s.status_name), ++n);
  }
  return view;
}

TEST(PrometheusText, CountersGaugesAndTheDecisionHistogram) {
  rules::Rule rule;
  rule.id = "odd \"rule\"\\name";
  const DecisionMetrics m = two_denials(rule);
  MetricsView view;
  view.decisions = &m;
  view.counters = {{"kernel_ringbuf_full", 2}, {"journal_dropped", 5}, {"kernel_exec", 7}};
  view.fields = {{"parked", 3}};
  const std::string text = render_prometheus(view);
  EXPECT_NE(text.find("# TYPE cmdgate_dropped_total counter\n"
                      "cmdgate_dropped_total{where=\"kernel_ringbuf\"} 2\n"
                      "cmdgate_dropped_total{where=\"journal\"} 5\n"),
            std::string::npos)
      << text;
  EXPECT_NE(text.find("# TYPE cmdgate_kernel_execs_total counter\ncmdgate_kernel_execs_total 7\n"),
            std::string::npos);
  EXPECT_NE(text.find("# TYPE cmdgate_parked gauge\ncmdgate_parked 3\n"), std::string::npos);
  EXPECT_NE(text.find("cmdgate_decisions_total{action=\"deny\",outcome=\"denied\","
                      "rule=\"odd \\\"rule\\\"\\\\name\"} 3\n"),
            std::string::npos)
      << text;
  EXPECT_NE(text.find("cmdgate_decision_latency_seconds_bucket{le=\"2.5e-05\"} 0\n"),
            std::string::npos);
  EXPECT_NE(text.find("cmdgate_decision_latency_seconds_bucket{le=\"5e-05\"} 1\n"),
            std::string::npos);
  EXPECT_NE(text.find("cmdgate_decision_latency_seconds_bucket{le=\"0.005\"} 2\n"),
            std::string::npos);
  EXPECT_NE(text.find("cmdgate_decision_latency_seconds_bucket{le=\"+Inf\"} 2\n"),
            std::string::npos);
  EXPECT_NE(text.find("cmdgate_decision_latency_seconds_count 2\n"), std::string::npos);
}

TEST(PrometheusText, AValueWithoutASeriesIsStillExported) {
  MetricsView view;
  view.counters = {{"brand_new_counter", 4}};
  view.fields = {{"brand_new_field", 6}};
  const std::string text = render_prometheus(view);
  EXPECT_NE(text.find("cmdgate_unmapped_counters_total{name=\"brand_new_counter\"} 4\n"),
            std::string::npos)
      << text;
  EXPECT_NE(text.find("cmdgate_unmapped_counters_total{name=\"brand_new_field\"} 6\n"),
            std::string::npos);
}

// Every sample belongs to a family announced before it with HELP and TYPE; every series of a
// labelled family carries its label; no name repeats a word ("cmdgate_kernel_kernel_...").
TEST(PrometheusText, EveryFamilyHasHelpAndTypeAndItsLabels) {
  const rules::Rule rule;
  const DecisionMetrics m = two_denials(rule);
  const std::string text = render_prometheus(every_series(&m));
  std::map<std::string, std::string> types;
  std::set<std::string> helped;
  std::set<std::string> sampled;
  const std::regex help(R"(# HELP (\S+) \S.*)");
  const std::regex type(R"(# TYPE (\S+) (counter|gauge|histogram))");
  const std::regex sample(R"(([a-zA-Z_:][a-zA-Z0-9_:]*)(\{(.*)\})? (\S+))");
  std::istringstream lines(text);
  std::string line;
  std::smatch mt;
  while (std::getline(lines, line)) {
    if (std::regex_match(line, mt, help)) {
      EXPECT_TRUE(helped.insert(mt[1]).second) << "HELP twice: " << line;
      continue;
    }
    if (std::regex_match(line, mt, type)) {
      EXPECT_TRUE(helped.contains(mt[1])) << "TYPE before HELP: " << line;
      types[mt[1]] = mt[2];
      continue;
    }
    ASSERT_TRUE(std::regex_match(line, mt, sample)) << line;
    std::string family = mt[1];
    std::string suffix;
    for (const std::string s : {"_bucket", "_sum", "_count"}) {
      const std::string base = family.substr(0, family.size() - s.size());
      if (family.ends_with(s) && types[base] == "histogram") {
        family = base;
        suffix = s;
      }
    }
    ASSERT_TRUE(types.contains(family)) << "sample of an unannounced family: " << line;
    const MetricFamily* f = find_family(family);
    ASSERT_NE(f, nullptr) << line;
    EXPECT_EQ(to_string(f->type), types[family]);
    if (suffix == "_sum" || suffix == "_count") {
      EXPECT_FALSE(mt[2].matched) << line;
    } else if (!f->labels.empty()) {
      const std::string labels(f->labels);
      for (size_t at = 0; at != std::string::npos;) {
        const size_t comma = labels.find(',', at);
        const std::string name = labels.substr(at, comma == std::string::npos ? comma : comma - at);
        EXPECT_NE(mt[3].str().find(name + "=\""), std::string::npos) << name << " in " << line;
        at = comma == std::string::npos ? comma : comma + 1;
      }
    } else {
      EXPECT_FALSE(mt[2].matched) << "labels on a family without: " << line;
    }
    sampled.insert(family);
  }
  for (const MetricFamily& f : metric_families()) {
    EXPECT_TRUE(types.contains(std::string(f.name))) << f.name;
    std::vector<std::string> words;
    std::istringstream parts{std::string(f.name)};
    for (std::string w; std::getline(parts, w, '_');) {
      EXPECT_TRUE(words.empty() || words.back() != w) << "doubled word in " << f.name;
      words.push_back(w);
    }
    EXPECT_TRUE(f.name.starts_with("cmdgate_")) << f.name;
    EXPECT_EQ(f.type == MetricType::kCounter, f.name.ends_with("_total")) << f.name;
  }
  for (const MetricSeries& s : metric_series()) {
    EXPECT_TRUE(sampled.contains(std::string(s.family))) << s.status_name;
  }
  EXPECT_EQ(text.find(std::string(kUnmappedFamily) + "{"), std::string::npos)
      << "every series of the table has a family";
}

// Series point at families of the table, with a label value exactly when the family is labelled,
// and no two series of one family share a label value.
TEST(MetricFamilies, SeriesAgreeWithTheirFamilies) {
  std::set<std::pair<std::string_view, std::string_view>> seen;
  for (const MetricSeries& s : metric_series()) {
    const MetricFamily* f = find_family(s.family);
    ASSERT_NE(f, nullptr) << s.family;
    EXPECT_EQ(f->labels.empty(), s.label_value.empty()) << s.status_name;
    EXPECT_TRUE(seen.insert({s.family, s.label_value}).second) << s.status_name;
  }
}

TEST(MetricFamilies, EveryPipelineCounterHasASeries) {
  PipelineStats{}.each([](const char* name, uint64_t) {
    EXPECT_NE(find_series(StatusSource::kCounters, name), nullptr) << name;
  });
}

TEST(PrometheusText, LabelEscaping) {
  EXPECT_EQ(escape_label("a\"b\\c\nd"), "a\\\"b\\\\c\\nd");
}

}  // namespace
}  // namespace cmdgate
