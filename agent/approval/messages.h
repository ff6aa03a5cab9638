#pragma once
// Daemon state -> protocol messages.

#include <cstddef>
#include <vector>

#include "cmdgate.pb.h"
#include "log/decision_record.h"
#include "park/pending_table.h"

namespace cmdgate {

// Argument text one request or event carries at most. argv may run to megabytes while a frame
// may not (protocol/framing.h): a request too large to send would stop every client that reads
// it, and with it the approval of every other request.
inline constexpr size_t kMaxSentArgvBytes = 128u << 10;

[[nodiscard]] protocol::ApprovalRequest to_request(const PendingRequest& r,
                                                   size_t argv_budget = kMaxSentArgvBytes);
// As many of the requests as one frame holds, their argv cut harder the more there are; the
// rest are counted in `omitted`.
[[nodiscard]] protocol::PendingList to_pending_list(const std::vector<const PendingRequest*>& list);
[[nodiscard]] protocol::DecisionEvent to_event(const DecisionRecord& r);

}  // namespace cmdgate
