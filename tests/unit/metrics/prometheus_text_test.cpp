#include "metrics/prometheus_text.h"

#include <gtest/gtest.h>

#include "rules/model.h"

namespace cmdgate {
namespace {

TEST(PrometheusText, CountersGaugesAndTheDecisionHistogram) {
  rules::Rule rule;
  rule.id = "odd \"rule\"\\name";
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

  const std::string text =
      render_prometheus({&m, {{"kernel_ringbuf_full_total", 2}, {"parked", 3}}});
  EXPECT_NE(text.find("# TYPE cmdgate_kernel_ringbuf_full_total counter\n"
                      "cmdgate_kernel_ringbuf_full_total 2\n"),
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

TEST(PrometheusText, LabelEscaping) {
  EXPECT_EQ(escape_label("a\"b\\c\nd"), "a\\\"b\\\\c\\nd");
}

}  // namespace
}  // namespace cmdgate
