#pragma once
// Who may decide a parked request. Approvers are root and members of the approver group; and
// nobody inside the process tree that issued the request (the process itself, its ancestors up
// to its session leader, anything they spawned) may ever allow it, whatever its uid: an AI agent
// must not approve its own command. The kernel's agent label extends the tree past sessions and
// reparenting: a client that carries an agent's label never decides a request from an agent.

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "approval/peer.h"
#include "pipeline/records.h"

namespace cmdgate {

struct RequesterTree {
  uint32_t tgid = 0;
  uint32_t sid = 0;
  // The requester, its fork-time ancestors up to its session leader, and the session leader.
  std::vector<uint32_t> members;
  // The requester's agent label, and whether more agents may apply (CG_EXEC_AGENT_UNKNOWN).
  uint64_t agents = 0;
  bool agents_unknown = false;
};

[[nodiscard]] RequesterTree requester_tree(const ExecEvent& e);

[[nodiscard]] bool is_approver(const Peer& p, std::optional<uint32_t> approver_gid);

// Why the peer belongs to the requester's tree, or nullopt when it does not.
[[nodiscard]] std::optional<std::string> inside_tree(const RequesterTree& tree, const Peer& p);

}  // namespace cmdgate
