#include "probe/agent_maps.h"

#include <bpf/bpf.h>

#include <algorithm>
#include <cstring>
#include <map>

#include "common/errno_error.h"
#include "common/dev_encoding.h"
#include "probe/map_walk.h"
#include "rules/model.h"

namespace cmdgate::probe {
namespace {

// The rules accept a comm name the kernel can hold.
static_assert(rules::kMaxCommLength == CG_COMM_LEN - 1);

struct BytesLess {
  template <typename T>
  bool operator()(const T& a, const T& b) const {
    return std::memcmp(&a, &b, sizeof(T)) < 0;
  }
};

// An exact name's key covers its NUL, so that "claude" does not match "claude-x"; a prefix's
// key covers only the prefix. Names are at most CG_AGENT_NAME_MAX - 1 bytes (the parser's
// limits are lower).
cg_agent_name_key name_key(uint32_t slot, const rules::AgentNameEntry& e) {
  cg_agent_name_key key{};
  key.slot = static_cast<__u8>(slot);
  key.kind = static_cast<__u8>(e.kind);
  const size_t n = std::min<size_t>(e.name.size(), CG_AGENT_NAME_MAX - 1);
  std::memcpy(key.name, e.name.data(), n);
  key.prefixlen = static_cast<__u32>(8 * (2 + n + (e.prefix ? 0 : 1)));
  return key;
}

template <typename Key>
Status write_all(int fd, const std::map<Key, uint64_t, BytesLess>& entries,
                 std::vector<Key>& keys, const char* what) {
  for (const auto& [key, bits] : entries) {
    const __u64 value = bits;
    if (bpf_map_update_elem(fd, &key, &value, BPF_ANY) != 0) {
      return errno_error(what);
    }
    keys.push_back(key);
  }
  return {};
}

std::map<cg_inode_slot_key, uint64_t, BytesLess> identities(
    uint32_t slot, const std::vector<rules::AgentFileEntry>& entries) {
  std::map<cg_inode_slot_key, uint64_t, BytesLess> out;
  for (const auto& e : entries) {
    cg_inode_slot_key key{};
    key.dev = kernel_dev_from_user(e.file.dev);
    key.ino = e.file.ino;
    key.slot = slot;
    out[key] |= e.bits;
  }
  return out;
}

}  // namespace

Status write_agent_entries(const BpfProbe& probe, uint32_t slot,
                           const rules::KernelPolicy& policy, AgentKeys& keys) {
  std::map<cg_agent_name_key, uint64_t, BytesLess> names;
  for (const auto& e : policy.agent_names) {
    names[name_key(slot, e)] |= e.bits;
  }
  auto s = write_all(probe.agent_files_fd(), identities(slot, policy.agent_files), keys.files,
                     "writing an agent file");
  s = s ? write_all(probe.agent_dirs_fd(), identities(slot, policy.agent_dirs), keys.dirs,
                    "writing an agent directory")
        : s;
  return s ? write_all(probe.agent_names_fd(), names, keys.names, "writing an agent name") : s;
}

void delete_agent_entries(const BpfProbe& probe, AgentKeys& keys) {
  for (const auto& k : keys.files) {
    bpf_map_delete_elem(probe.agent_files_fd(), &k);
  }
  for (const auto& k : keys.dirs) {
    bpf_map_delete_elem(probe.agent_dirs_fd(), &k);
  }
  for (const auto& k : keys.names) {
    bpf_map_delete_elem(probe.agent_names_fd(), &k);
  }
  keys = {};
}

Status list_agent_entries(const BpfProbe& probe, AgentKeys (&keys)[CG_POLICY_SLOTS]) {
  auto s = for_each_key<cg_inode_slot_key>(probe.agent_files_fd(), [&](const auto& k) {
    keys[k.slot % CG_POLICY_SLOTS].files.push_back(k);
  });
  s = s ? for_each_key<cg_inode_slot_key>(probe.agent_dirs_fd(),
                                          [&](const auto& k) {
                                            keys[k.slot % CG_POLICY_SLOTS].dirs.push_back(k);
                                          })
        : s;
  return s ? for_each_key<cg_agent_name_key>(probe.agent_names_fd(),
                                             [&](const auto& k) {
                                               keys[k.slot % CG_POLICY_SLOTS].names.push_back(k);
                                             })
           : s;
}

}  // namespace cmdgate::probe
