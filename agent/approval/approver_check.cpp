#include "approval/approver_check.h"

#include <algorithm>

#include <fmt/format.h>

#include "probe/abi_check.h"

namespace cmdgate {
namespace {

bool contains(const std::vector<uint32_t>& v, uint32_t x) {
  return std::find(v.begin(), v.end(), x) != v.end();
}

bool bloom_may_hold(const std::array<uint64_t, CG_BLOOM_WORDS>& bloom, uint32_t tgid) {
  for (uint32_t which = 0; which < CG_BLOOM_HASHES; ++which) {
    const uint32_t bit = cg_bloom_bit(tgid, which);
    if ((bloom[bit / 64] & (uint64_t{1} << (bit % 64))) == 0) {
      return false;
    }
  }
  return true;
}

// A request from an agent's tree (or one whose label is unknown) is decided by no process that
// carries an agent label, nor by one whose label is unknown: it may be the same agent.
std::optional<std::string> shares_a_label(const RequesterTree& tree, const Peer& p) {
  if (tree.agents == 0 && !tree.agents_unknown) {
    return std::nullopt;
  }
  const std::optional<uint64_t> peer = p.kernel ? p.kernel->agents : std::nullopt;
  if (!peer) {
    return "the client's agent label is unknown and the request comes from an agent's tree";
  }
  if (*peer != 0) {
    return fmt::format("the client carries agent label {:#x}: agents may not decide requests from "
                       "an agent's tree",
                       *peer);
  }
  return std::nullopt;
}

}  // namespace

RequesterTree requester_tree(const ExecEvent& e) {
  RequesterTree t;
  t.tgid = e.tgid;
  t.agents = e.agents;
  t.agents_unknown = e.has(CG_EXEC_AGENT_UNKNOWN);
  // A requester that leads a session of its own (setsid just before the exec) still belongs to
  // the session it was started from: its parent's.
  t.sid = e.sid == e.tgid && !e.lineage.empty() && e.lineage[0].sid > 1 ? e.lineage[0].sid
                                                                         : e.sid;
  t.members.push_back(e.tgid);
  for (const LineageEntry& a : e.lineage) {
    if (a.tgid <= 1) {
      break;  // never count init: everything descends from it
    }
    t.members.push_back(a.tgid);
    if (a.tgid == t.sid) {
      break;
    }
  }
  if (t.sid > 1 && !contains(t.members, t.sid)) {
    t.members.push_back(t.sid);
  }
  return t;
}

bool is_approver(const Peer& p, std::optional<uint32_t> approver_gid) {
  if (p.uid == 0) {
    return true;
  }
  return approver_gid && (p.gid == *approver_gid || contains(p.groups, *approver_gid));
}

std::optional<std::string> inside_tree(const RequesterTree& tree, const Peer& p) {
  if (contains(tree.members, p.pid)) {
    return p.pid == tree.tgid ? "the client is the requesting process itself"
                              : fmt::format("the client (pid {}) is an ancestor of the request",
                                            p.pid);
  }
  if (tree.sid > 1 && p.sid == tree.sid) {
    return fmt::format("the client runs in the requesting session {}", tree.sid);
  }
  for (uint32_t a : p.live_chain) {
    if (a > 1 && contains(tree.members, a)) {
      return fmt::format("the client descends from pid {} of the requesting tree", a);
    }
  }
  if (auto why = shares_a_label(tree, p)) {
    return why;
  }
  if (p.kernel) {
    for (uint32_t a : p.kernel->tgids) {
      if (a > 1 && contains(tree.members, a)) {
        return fmt::format("the client was forked from pid {} of the requesting tree", a);
      }
    }
    // The filter only knows more than the exact chain when that chain was cut short; consulting
    // it otherwise would add false positives and nothing else.
    for (uint32_t m : p.kernel->truncated ? tree.members : std::vector<uint32_t>{}) {
      if (bloom_may_hold(p.kernel->bloom, m)) {
        return fmt::format("the client's recorded ancestry includes pid {} of the requesting tree",
                           m);
      }
    }
  }
  return std::nullopt;
}

}  // namespace cmdgate
