#include "rules/policy_image.h"

#include <algorithm>

#include "common/dev_encoding.h"

namespace cmdgate::rules {
namespace {

static_assert(static_cast<uint8_t>(KernelVerdict::kNone) == CG_VERDICT_NONE);
static_assert(static_cast<uint8_t>(KernelVerdict::kAllow) == CG_VERDICT_ALLOW);
static_assert(static_cast<uint8_t>(KernelVerdict::kAudit) == CG_VERDICT_AUDIT);
static_assert(static_cast<uint8_t>(KernelVerdict::kEvaluate) == CG_VERDICT_EVALUATE);
static_assert(static_cast<uint8_t>(KernelVerdict::kDeny) == CG_VERDICT_DENY);

// An LPM key for (slot, prefix). A prefix too long for a key becomes its first CG_LPM_PATH_MAX
// bytes, which covers more than asked: such entries must say evaluate.
cg_path_key path_key(uint32_t slot, const PathEntry& e, bool* truncated) {
  cg_path_key key{};
  key.slot = static_cast<__u8>(slot);
  const size_t n = std::min<size_t>(e.prefix.size(), CG_LPM_PATH_MAX);
  std::memcpy(key.path, e.prefix.data(), n);
  key.prefixlen = static_cast<__u32>(8 * (1 + n));
  *truncated = e.prefix.size() > CG_LPM_PATH_MAX;
  return key;
}

}  // namespace

cg_inode_verdict inode_value(const InodeVerdict& v) {
  cg_inode_verdict value{};
  value.verdict = raw_verdict(v.verdict);
  value.agent_verdict = raw_verdict(v.agent_verdict);
  value.flags = static_cast<uint8_t>((v.check_path ? CG_VF_CHECK_PATH : 0) |
                                     (v.agent_check_path ? CG_VF_AGENT_CHECK_PATH : 0));
  return value;
}

PolicyImage policy_image(const KernelPolicy& policy, uint32_t slot) {
  PolicyImage image;
  for (const auto& e : policy.inodes) {
    cg_inode_key key{};
    key.dev = kernel_dev_from_user(e.file.dev);
    key.ino = e.file.ino;
    image.inodes.emplace_back(key, inode_value(e.verdict));
  }
  // Two entries that collapse into one key (truncation) must agree, else the key evaluates.
  for (const auto& e : policy.paths) {
    bool truncated = false;
    const cg_path_key key = path_key(slot, e, &truncated);
    cg_path_verdict v{};
    v.verdict = truncated ? uint8_t{CG_VERDICT_EVALUATE} : raw_verdict(e.verdict);
    v.agent_verdict = truncated ? uint8_t{CG_VERDICT_EVALUATE} : raw_verdict(e.agent_verdict);
    auto [it, inserted] = image.paths.emplace(key, v);
    if (!inserted && it->second.verdict != v.verdict) {
      it->second.verdict = CG_VERDICT_EVALUATE;
    }
    if (!inserted && it->second.agent_verdict != v.agent_verdict) {
      it->second.agent_verdict = CG_VERDICT_EVALUATE;
    }
  }
  cg_policy_meta& m = image.meta;
  m.default_verdict = raw_verdict(policy.default_verdict);
  m.memfd_verdict = raw_verdict(policy.memfd_verdict);
  m.deleted_verdict = raw_verdict(policy.deleted_verdict);
  m.script_verdict = raw_verdict(policy.script_verdict);
  m.loader_verdict = raw_verdict(policy.loader_verdict);
  m.has_paths = static_cast<__u8>(!image.paths.empty());
  m.agent_default_verdict = raw_verdict(policy.agent_default_verdict);
  m.agent_memfd_verdict = raw_verdict(policy.agent_memfd_verdict);
  m.agent_deleted_verdict = raw_verdict(policy.agent_deleted_verdict);
  m.agent_script_verdict = raw_verdict(policy.agent_script_verdict);
  m.agent_loader_verdict = raw_verdict(policy.agent_loader_verdict);
  m.has_agents = static_cast<__u8>(policy.has_agents);
  return image;
}

}  // namespace cmdgate::rules
