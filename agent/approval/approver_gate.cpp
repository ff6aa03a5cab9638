#include "approval/approver_gate.h"

#include <spdlog/spdlog.h>

#include "approval/approver_check.h"

namespace cmdgate {
namespace {

// What a message asks that only approvers may do, as a refusal names it; nullopt: anyone may.
std::optional<std::string_view> approvers_only(const protocol::ClientMessage& m) {
  switch (m.body_case()) {
    case protocol::ClientMessage::kSubscribe:
      if (m.subscribe().approvals() || m.subscribe().events()) {
        return "subscribe";
      }
      return std::nullopt;
    case protocol::ClientMessage::kListPending:
      return "list requests";
    case protocol::ClientMessage::kDecide:
      return "decide";
    case protocol::ClientMessage::kReload:
      return "reload rules";
    default:
      return std::nullopt;
  }
}

Admission refused(std::string why, bool refused_decision) {
  Admission a;
  a.refusal = std::move(why);
  a.refused_decision = refused_decision;
  return a;
}

}  // namespace

bool ApproverGate::is_approver(const Peer& p) const {
  return cmdgate::is_approver(p, approver_gid_);
}

Admission ApproverGate::admit(const Caller& c, const protocol::ClientMessage& m) const {
  const bool decide = m.body_case() == protocol::ClientMessage::kDecide;
  if (auto what = approvers_only(m); what && !c.approver) {
    return refused(fmt::format("only root and members of the approver group may {}", *what),
                   decide);
  }
  if (!decide || m.decide().verdict() != protocol::VERDICT_ALLOW) {
    return {};  // a denial makes nothing run: any approver may deny, from anywhere
  }
  // A request that is not pending is refused by the decision, saying so.
  const PendingRequest* p = d_.pending.find(m.decide().id());
  return p == nullptr ? Admission{} : admit_allow(c, *p);
}

Admission ApproverGate::admit_allow(const Caller& c, const PendingRequest& p) const {
  // Identity again, now: the client may have moved (setsid, reparenting) since it connected.
  auto now = identify_peer(c.socket_fd, d_.proc, d_.kernel);
  if (!now) {
    return refused(now.error().message, false);
  }
  if (auto why = inside_tree(requester_tree(p.event), *now)) {
    log_refused_approval(p.id, *now, *why);
    return refused("refused: " + *why + "; a process may not approve its own request", true);
  }
  Admission a;
  a.authenticate = must_authenticate(authenticate_, now->uid, p.event.uid) && !c.authenticated;
  a.approver = std::move(*now);
  return a;
}

void log_refused_approval(uint64_t request_id, const Peer& by, std::string_view why) {
  spdlog::warn("refused approval of request {} by uid {} pid {} ({}): {}", request_id, by.uid,
               by.pid, by.exe, why);
}

}  // namespace cmdgate
