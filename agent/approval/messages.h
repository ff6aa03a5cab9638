#pragma once
// Daemon state -> protocol messages.

#include "cmdgate.pb.h"
#include "log/decision_record.h"
#include "park/pending_table.h"

namespace cmdgate {

[[nodiscard]] protocol::ApprovalRequest to_request(const PendingRequest& r);
[[nodiscard]] protocol::DecisionEvent to_event(const DecisionRecord& r);

}  // namespace cmdgate
