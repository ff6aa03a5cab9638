#include "probe/policy_maps.h"

#include <bpf/bpf.h>

#include <atomic>
#include <cstring>
#include <map>

#include "common/errno_error.h"
#include "probe/dev_encoding.h"
#include "probe/map_walk.h"

namespace cmdgate::probe {
namespace {

static_assert(static_cast<uint8_t>(rules::KernelVerdict::kNone) == CG_VERDICT_NONE);
static_assert(static_cast<uint8_t>(rules::KernelVerdict::kAllow) == CG_VERDICT_ALLOW);
static_assert(static_cast<uint8_t>(rules::KernelVerdict::kAudit) == CG_VERDICT_AUDIT);
static_assert(static_cast<uint8_t>(rules::KernelVerdict::kEvaluate) == CG_VERDICT_EVALUATE);
static_assert(static_cast<uint8_t>(rules::KernelVerdict::kDeny) == CG_VERDICT_DENY);

uint8_t raw(rules::KernelVerdict v) { return static_cast<uint8_t>(v); }

template <typename T>
void store(T& field, T value) {
  std::atomic_ref<T>(field).store(value, std::memory_order_release);
}

// An LPM key for (slot, prefix). A prefix too long for a key becomes its first CG_LPM_PATH_MAX
// bytes, which covers more than asked: such entries must say evaluate.
cg_path_key make_path_key(uint32_t slot, const rules::PathEntry& e, bool* truncated) {
  cg_path_key key{};
  key.slot = static_cast<__u8>(slot);
  const size_t n = std::min<size_t>(e.prefix.size(), CG_LPM_PATH_MAX);
  std::memcpy(key.path, e.prefix.data(), n);
  key.prefixlen = static_cast<__u32>(8 * (1 + n));
  *truncated = e.prefix.size() > CG_LPM_PATH_MAX;
  return key;
}

uint8_t flags_of(const rules::InodeVerdict& v) {
  return static_cast<uint8_t>((v.check_path ? CG_VF_CHECK_PATH : 0) |
                              (v.agent_check_path ? CG_VF_AGENT_CHECK_PATH : 0));
}

struct PathKeyLess {
  bool operator()(const cg_path_key& a, const cg_path_key& b) const {
    return std::memcmp(&a, &b, sizeof(a)) < 0;
  }
};

}  // namespace

Result<PublishStats> PolicyMaps::publish(const rules::KernelPolicy& policy, uint32_t generation) {
  const uint32_t old_slot = active_slot();
  const uint32_t slot = published_ ? (old_slot + 1) % CG_POLICY_SLOTS : old_slot;
  PublishStats stats;

  // Leftovers of a publish that failed half-way.
  for (const auto& k : inode_keys_[slot]) {
    bpf_map_delete_elem(probe_.rule_inodes_fd(), &k);
  }
  for (const auto& k : path_keys_[slot]) {
    bpf_map_delete_elem(probe_.path_trie_fd(), &k);
  }
  inode_keys_[slot].clear();
  path_keys_[slot].clear();
  delete_agent_entries(probe_, agent_keys_[slot]);

  for (const auto& e : policy.inodes) {
    cg_inode_slot_key key{};
    key.dev = kernel_dev_from_user(e.file.dev);
    key.ino = e.file.ino;
    key.slot = slot;
    cg_inode_verdict value{};
    value.verdict = raw(e.verdict.verdict);
    value.agent_verdict = raw(e.verdict.agent_verdict);
    value.flags = flags_of(e.verdict);
    if (bpf_map_update_elem(probe_.rule_inodes_fd(), &key, &value, BPF_ANY) != 0) {
      return errno_error("writing a rule inode verdict");
    }
    inode_keys_[slot].push_back(key);
  }
  stats.inodes = policy.inodes.size();

  // Two entries that collapse into one key (truncation) must agree, else the key evaluates.
  std::map<cg_path_key, cg_path_verdict, PathKeyLess> paths;
  for (const auto& e : policy.paths) {
    bool truncated = false;
    const cg_path_key key = make_path_key(slot, e, &truncated);
    cg_path_verdict v{};
    v.verdict = truncated ? uint8_t{CG_VERDICT_EVALUATE} : raw(e.verdict);
    v.agent_verdict = truncated ? uint8_t{CG_VERDICT_EVALUATE} : raw(e.agent_verdict);
    auto [it, inserted] = paths.emplace(key, v);
    if (!inserted && it->second.verdict != v.verdict) {
      it->second.verdict = CG_VERDICT_EVALUATE;
    }
    if (!inserted && it->second.agent_verdict != v.agent_verdict) {
      it->second.agent_verdict = CG_VERDICT_EVALUATE;
    }
  }
  for (const auto& [key, value] : paths) {
    if (bpf_map_update_elem(probe_.path_trie_fd(), &key, &value, BPF_ANY) != 0) {
      return errno_error("writing a path verdict");
    }
    path_keys_[slot].push_back(key);
  }
  stats.paths = paths.size();
  if (auto s = write_agent_entries(probe_, slot, policy, agent_keys_[slot]); !s) {
    return s.error();
  }
  stats.agents = agent_keys_[slot].size();

  cg_policy_meta* meta = probe_.policy_meta(slot);
  store(meta->generation, generation);
  store(meta->default_verdict, raw(policy.default_verdict));
  store(meta->memfd_verdict, raw(policy.memfd_verdict));
  store(meta->deleted_verdict, raw(policy.deleted_verdict));
  store(meta->script_verdict, raw(policy.script_verdict));
  store(meta->loader_verdict, raw(policy.loader_verdict));
  store(meta->has_paths, static_cast<__u8>(!paths.empty()));
  store(meta->agent_default_verdict, raw(policy.agent_default_verdict));
  store(meta->agent_memfd_verdict, raw(policy.agent_memfd_verdict));
  store(meta->agent_deleted_verdict, raw(policy.agent_deleted_verdict));
  store(meta->agent_script_verdict, raw(policy.agent_script_verdict));
  store(meta->agent_loader_verdict, raw(policy.agent_loader_verdict));
  store(meta->has_agents, static_cast<__u8>(policy.has_agents));

  if (!published_) {
    published_ = true;
    return stats;
  }
  store(probe_.control()->active_slot, slot);
  if (auto s = wait_for_readers(); !s) {
    return s.error();
  }
  for (const auto& k : inode_keys_[old_slot]) {
    bpf_map_delete_elem(probe_.rule_inodes_fd(), &k);
  }
  for (const auto& k : path_keys_[old_slot]) {
    bpf_map_delete_elem(probe_.path_trie_fd(), &k);
  }
  stats.removed = inode_keys_[old_slot].size() + path_keys_[old_slot].size() +
                  agent_keys_[old_slot].size();
  inode_keys_[old_slot].clear();
  path_keys_[old_slot].clear();
  delete_agent_entries(probe_, agent_keys_[old_slot]);
  return stats;
}

Status PolicyMaps::adopt() {
  for (uint32_t slot = 0; slot < CG_POLICY_SLOTS; ++slot) {
    inode_keys_[slot].clear();
    path_keys_[slot].clear();
    agent_keys_[slot] = {};
  }
  auto s = for_each_key<cg_inode_slot_key>(probe_.rule_inodes_fd(), [&](const auto& k) {
    inode_keys_[k.slot % CG_POLICY_SLOTS].push_back(k);
  });
  s = s ? for_each_key<cg_path_key>(probe_.path_trie_fd(),
                                    [&](const auto& k) {
                                      path_keys_[k.slot % CG_POLICY_SLOTS].push_back(k);
                                    })
        : s;
  s = s ? list_agent_entries(probe_, agent_keys_) : s;
  if (!s) {
    return s.error().context("listing the adopted policy's entries");
  }
  published_ = true;
  return {};
}

Status PolicyMaps::learn(const rules::FileId& file, int64_t ctime_sec, uint32_t ctime_nsec,
                         rules::InodeVerdict verdict, uint32_t generation) {
  cg_inode_key key{};
  key.dev = kernel_dev_from_user(file.dev);
  key.ino = file.ino;
  cg_learned_verdict value{};
  value.ctime_sec = ctime_sec;
  value.ctime_nsec = ctime_nsec;
  value.generation = generation;
  value.verdict = raw(verdict.verdict);
  value.agent_verdict = raw(verdict.agent_verdict);
  value.flags = flags_of(verdict);
  if (bpf_map_update_elem(probe_.learned_fd(), &key, &value, BPF_ANY) != 0) {
    return errno_error("writing a learned verdict");
  }
  return {};
}

Status PolicyMaps::wait_for_readers() {
  const uint32_t zero = 0;
  const int inner = probe_.barrier_inner_fd();
  if (bpf_map_update_elem(probe_.rcu_barrier_fd(), &zero, &inner, BPF_ANY) != 0) {
    return errno_error("waiting for BPF readers of the old policy");
  }
  return {};
}

void PolicyMaps::set_enabled(bool on) { store(probe_.control()->enabled, static_cast<__u8>(on)); }

void PolicyMaps::take_ownership(uint32_t tgid) {
  store(probe_.control()->owner_tgid, static_cast<__u32>(tgid));
}

void PolicyMaps::set_daemon_alive(bool alive) {
  store(probe_.control()->daemon_alive, static_cast<__u8>(alive));
}

void PolicyMaps::set_daemon_exe(uint32_t slot, const rules::FileId& file) {
  cg_inode_key& k = probe_.control()->daemon_exe[slot % 2];
  // Zero the inode first: the kernel ignores an entry whose inode is 0, so it never sees a
  // half-written pair.
  store(k.ino, __u64{0});
  store(k.dev, static_cast<__u64>(kernel_dev_from_user(file.dev)));
  store(k.ino, static_cast<__u64>(file.ino));
}

void PolicyMaps::set_delivery_failure(cg_delivery_failure mode) {
  store(probe_.control()->delivery_failure, static_cast<__u8>(mode));
}

void PolicyMaps::set_stale_after(uint64_t ns) {
  store(probe_.control()->stale_after_ns, static_cast<__u64>(ns));
}

void PolicyMaps::heartbeat(uint64_t monotonic_ns) {
  store(probe_.control()->heartbeat_ns, static_cast<__u64>(monotonic_ns));
}

uint32_t PolicyMaps::active_slot() const {
  return std::atomic_ref<__u32>(probe_.control()->active_slot).load(std::memory_order_acquire);
}

}  // namespace cmdgate::probe
