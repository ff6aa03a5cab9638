#pragma once
// The maps that label processes as agents (bpf/lib/label.bpf.h), written per policy slot with
// the rest of a policy (probe/policy_maps.h): an exec is labelled by the same generation that
// judges it.

#include <cstdint>
#include <vector>

#include "common/result.h"
#include "probe/bpf_probe.h"
#include "rules/kernel_policy.h"

namespace cmdgate::probe {

// The entries one slot holds, to delete them when the slot is reused.
struct AgentKeys {
  std::vector<cg_inode_slot_key> files;
  std::vector<cg_inode_slot_key> dirs;
  std::vector<cg_agent_name_key> names;

  [[nodiscard]] size_t size() const { return files.size() + dirs.size() + names.size(); }
};

// Writes the policy's agent files, directories and names into slot; keys records them.
[[nodiscard]] Status write_agent_entries(const BpfProbe& probe, uint32_t slot,
                                         const rules::KernelPolicy& policy, AgentKeys& keys);
void delete_agent_entries(const BpfProbe& probe, AgentKeys& keys);
// The entries the maps hold, by slot (an adopted predecessor's).
[[nodiscard]] Status list_agent_entries(const BpfProbe& probe, AgentKeys (&keys)[CG_POLICY_SLOTS]);

}  // namespace cmdgate::probe
