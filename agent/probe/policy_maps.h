#pragma once
// Writes compiled kernel policies into the BPF maps, double-buffered: the new policy goes into
// the slot the kernel is not reading, one aligned store flips the slot, an RCU grace period
// (forced through a map-of-maps update) waits out programs that still read the old slot, and
// only then are the old entries deleted. Every exec is judged by one whole policy.

#include <cstdint>
#include <vector>

#include "common/result.h"
#include "probe/agent_maps.h"
#include "probe/bpf_probe.h"
#include "probe/path_keys.h"
#include "rules/kernel_policy.h"

namespace cmdgate::probe {

struct PublishStats {
  size_t inodes = 0;
  size_t paths = 0;
  size_t agents = 0;  // agent files, directories and names
  size_t removed = 0;
};

class PolicyMaps {
 public:
  explicit PolicyMaps(const BpfProbe& probe) : probe_(probe) {}

  [[nodiscard]] Result<PublishStats> publish(const rules::KernelPolicy& policy,
                                             uint32_t generation);
  // The maps hold a predecessor's policy, in force in the active slot: the next publish goes
  // into the other slot, and the entries each slot holds are taken from the maps.
  [[nodiscard]] Status adopt();

  // A verdict the daemon derived for one file; valid while generation is active and the file's
  // ctime does not move.
  [[nodiscard]] Status learn(const rules::FileId& file, int64_t ctime_sec, uint32_t ctime_nsec,
                             rules::InodeVerdict verdict, uint32_t generation);

  void set_enabled(bool on);
  // From now on only this daemon's programs act (see cg_control.owner_tgid).
  void take_ownership(uint32_t tgid);
  // Whether execs that need the daemon may wait for it (else delivery_failure applies).
  void set_daemon_alive(bool alive);
  // A file that may start while no daemon runs (cg_control.daemon_exe[slot]).
  void set_daemon_exe(uint32_t slot, const rules::FileId& file);
  void set_delivery_failure(cg_delivery_failure mode);
  void set_stale_after(uint64_t ns);
  void heartbeat(uint64_t monotonic_ns);
  [[nodiscard]] uint32_t active_slot() const;

 private:
  [[nodiscard]] Status wait_for_readers();

  const BpfProbe& probe_;
  size_t inode_count_[CG_POLICY_SLOTS] = {};  // each slot has a rule-inode map of its own
  PathKeys path_keys_[CG_POLICY_SLOTS];
  AgentKeys agent_keys_[CG_POLICY_SLOTS];
  bool published_ = false;
};

}  // namespace cmdgate::probe
