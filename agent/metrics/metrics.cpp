#include "metrics/metrics.h"

namespace cmdgate {

void DecisionMetrics::observe(const DecisionRecord& r) {
  std::string action = "none";
  std::string rule;
  if (r.judgement != nullptr) {
    action = rules::to_string(r.judgement->decision.action);
    if (r.judgement->decision.rule != nullptr) {
      rule = r.judgement->decision.rule->id;
    }
  }
  ++decisions_[{action, std::string(to_string(r.outcome)), rule}];
  // Latency of decisions the daemon made itself (kernel decisions are logged later, in batches).
  if (r.decided_by != DecidedBy::kDaemon && r.decided_by != DecidedBy::kGrant &&
      r.decided_by != DecidedBy::kNoApprover) {
    return;
  }
  const double seconds = static_cast<double>(r.latency_ns) / 1e9;
  for (size_t i = 0; i < kBuckets.size(); ++i) {
    if (seconds <= kBuckets[i]) {
      ++buckets_[i];
    }
  }
  ++buckets_.back();
  sum_ += seconds;
  ++count_;
}

}  // namespace cmdgate
