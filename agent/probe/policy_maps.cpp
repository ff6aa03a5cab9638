#include "probe/policy_maps.h"

#include <bpf/bpf.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <utility>
#include <vector>

#include "common/errno_error.h"
#include "common/fd.h"
#include "common/dev_encoding.h"
#include "rules/policy_image.h"
#include "probe/learned_room.h"
#include "probe/map_walk.h"

namespace cmdgate::probe {
namespace {

template <typename T>
void store(T& field, T value) {
  std::atomic_ref<T>(field).store(value, std::memory_order_release);
}

// A slot's rule-inode map, created like the template in bpf/lib/policy.bpf.h (the kernel refuses
// to install one that differs) and sized for exactly these entries.
Result<Fd> rule_inodes_map(const std::vector<std::pair<cg_inode_key, cg_inode_verdict>>& entries) {
  LIBBPF_OPTS(bpf_map_create_opts, opts, .map_flags = BPF_F_NO_PREALLOC);
  Fd fd(bpf_map_create(BPF_MAP_TYPE_HASH, "rule_inodes", sizeof(cg_inode_key),
                       sizeof(cg_inode_verdict),
                       static_cast<__u32>(std::max<size_t>(entries.size(), 1)), &opts));
  if (!fd) {
    return errno_error("creating the map of rule inode verdicts");
  }
  for (const auto& [key, value] : entries) {
    if (bpf_map_update_elem(fd.get(), &key, &value, BPF_ANY) != 0) {
      return errno_error("writing a rule inode verdict");
    }
  }
  return fd;
}

}  // namespace

Result<PublishStats> PolicyMaps::publish(const rules::KernelPolicy& policy, uint32_t generation) {
  const uint32_t old_slot = active_slot();
  const uint32_t slot = published_ ? (old_slot + 1) % CG_POLICY_SLOTS : old_slot;
  PublishStats stats;

  // Leftovers of a publish that failed half-way.
  path_keys_[slot].for_each(
      [&](const cg_path_key& k) { bpf_map_delete_elem(probe_.path_trie_fd(), &k); });
  path_keys_[slot].clear();
  delete_agent_entries(probe_, agent_keys_[slot]);

  const rules::PolicyImage image = rules::policy_image(policy, slot);
  auto inodes = rule_inodes_map(image.inodes);
  if (!inodes) {
    return inodes.error();
  }
  const int inodes_fd = inodes->get();
  if (bpf_map_update_elem(probe_.rule_inodes_fd(), &slot, &inodes_fd, BPF_ANY) != 0) {
    return errno_error("installing the rule inode verdicts");
  }
  inode_count_[slot] = image.inodes.size();
  stats.inodes = image.inodes.size();
  for (const auto& [key, value] : image.paths) {
    if (bpf_map_update_elem(probe_.path_trie_fd(), &key, &value, BPF_ANY) != 0) {
      return errno_error("writing a path verdict");
    }
    path_keys_[slot].add(key);
  }
  stats.paths = image.paths.size();
  if (auto s = write_agent_entries(probe_, slot, policy, agent_keys_[slot]); !s) {
    return s.error();
  }
  stats.agents = agent_keys_[slot].size();

  // One aligned store per field: the programs read the meta without a lock (policy.bpf.h).
  const cg_policy_meta& m = image.meta;
  cg_policy_meta* meta = probe_.policy_meta(slot);
  store(meta->generation, generation);
  store(meta->default_verdict, m.default_verdict);
  store(meta->memfd_verdict, m.memfd_verdict);
  store(meta->deleted_verdict, m.deleted_verdict);
  store(meta->script_verdict, m.script_verdict);
  store(meta->loader_verdict, m.loader_verdict);
  store(meta->has_paths, m.has_paths);
  store(meta->agent_default_verdict, m.agent_default_verdict);
  store(meta->agent_memfd_verdict, m.agent_memfd_verdict);
  store(meta->agent_deleted_verdict, m.agent_deleted_verdict);
  store(meta->agent_script_verdict, m.agent_script_verdict);
  store(meta->agent_loader_verdict, m.agent_loader_verdict);
  store(meta->has_agents, m.has_agents);

  if (!published_) {
    published_ = true;
    return stats;
  }
  store(probe_.control()->active_slot, slot);
  if (auto s = wait_for_readers(); !s) {
    return s.error();
  }
  bpf_map_delete_elem(probe_.rule_inodes_fd(), &old_slot);
  path_keys_[old_slot].for_each(
      [&](const cg_path_key& k) { bpf_map_delete_elem(probe_.path_trie_fd(), &k); });
  stats.removed = inode_count_[old_slot] + path_keys_[old_slot].size() +
                  agent_keys_[old_slot].size();
  inode_count_[old_slot] = 0;
  path_keys_[old_slot].clear();
  delete_agent_entries(probe_, agent_keys_[old_slot]);
  return stats;
}

Status PolicyMaps::adopt() {
  for (uint32_t slot = 0; slot < CG_POLICY_SLOTS; ++slot) {
    inode_count_[slot] = 0;  // the predecessor's maps go whole when their slot is reused
    path_keys_[slot].clear();
    agent_keys_[slot] = {};
  }
  auto s = for_each_key<cg_path_key>(
      probe_.path_trie_fd(), [&](const auto& k) { path_keys_[k.slot % CG_POLICY_SLOTS].add(k); });
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
  const cg_inode_verdict v = rules::inode_value(verdict);
  value.verdict = v.verdict;
  value.agent_verdict = v.agent_verdict;
  value.flags = v.flags;
  const int fd = probe_.learned_fd();
  if (bpf_map_update_elem(fd, &key, &value, BPF_ANY) == 0) {
    return {};
  }
  if (errno != E2BIG) {
    return errno_error("writing a learned verdict");
  }
  // Full: an eighth of it at a time, so that this is rare.
  auto room = make_room_to_learn(fd, generation, probe_.learned_capacity() / 8);
  if (!room) {
    return room.error().context("making room for a learned verdict");
  }
  spdlog::info("the learned-verdict map was full: {} entries removed", *room);
  if (bpf_map_update_elem(fd, &key, &value, BPF_ANY) != 0) {
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
