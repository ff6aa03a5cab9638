#pragma once
// The one authorization step of the approval socket: whether a client may have a message acted
// on. Subscribing, listing, deciding and reloading are for approvers (approver_check.h); an
// allow is also checked against who the client is now (it may have moved since it connected)
// and the requester's tree, and says whether its approver must first prove to be a person
// (auth_policy.h). A refused message changes nothing: the request it names stays parked.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "approval/auth_policy.h"
#include "approval/peer.h"
#include "cmdgate.pb.h"
#include "kernel/kernel_port.h"
#include "kernel/proc_fs.h"
#include "park/pending_table.h"

namespace cmdgate {

struct Caller {
  int socket_fd = -1;  // its connection, to identify it again
  bool approver = false;
  bool authenticated = false;  // proved to be a person on this connection, recently enough
};

struct Admission {
  std::optional<std::string> refusal;  // the error the client gets; none: admitted
  bool refused_decision = false;       // a refusal that counts as a refused decision
  bool authenticate = false;           // admitted once `approver` has proved to be a person
  std::optional<Peer> approver;        // who allows a request, as identified just now
};

struct ApproverGateDeps {
  const ProcFs& proc;
  const KernelPort& kernel;
  const PendingTable& pending;
};

class ApproverGate {
 public:
  ApproverGate(ApproverGateDeps deps, std::optional<uint32_t> approver_gid,
               AuthenticateWhen authenticate)
      : d_(deps), approver_gid_(approver_gid), authenticate_(authenticate) {}

  [[nodiscard]] bool is_approver(const Peer& p) const;
  [[nodiscard]] Admission admit(const Caller& c, const protocol::ClientMessage& m) const;

 private:
  [[nodiscard]] Admission admit_allow(const Caller& c, const PendingRequest& p) const;

  ApproverGateDeps d_;
  std::optional<uint32_t> approver_gid_;
  AuthenticateWhen authenticate_;
};

// The log line of a refused approval, wherever it is refused.
void log_refused_approval(uint64_t request_id, const Peer& by, std::string_view why);

}  // namespace cmdgate
