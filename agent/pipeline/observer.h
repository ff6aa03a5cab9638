#pragma once
// What the exec pipeline tells the approval server: requests parked and closed, and every
// decision (for live subscribers).

#include <cstdint>
#include <string>
#include <string_view>

#include "log/decision_record.h"

namespace cmdgate {

struct PendingRequest;

struct ApproverInfo {
  uint32_t uid = 0;
  uint32_t pid = 0;
  std::string exe;
};

class PipelineObserver {
 public:
  virtual ~PipelineObserver() = default;
  virtual void on_parked(const PendingRequest& r) = 0;
  virtual void on_closed(const PendingRequest& r, Outcome outcome, DecidedBy by,
                         const ApproverInfo* approver) = 0;
  virtual void on_decision(const DecisionRecord& record) = 0;
  // Whether some approver is connected and subscribed to requests.
  [[nodiscard]] virtual bool approvers_listening() const = 0;
};

}  // namespace cmdgate
