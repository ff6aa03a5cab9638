#include "rules/kernel_model.h"

#include <cstring>

#include "common/dev_encoding.h"
#include "rules/policy_image.h"

// The lookups bpf/shared/cmdgate_verdict.h asks its includer for, over a policy image in place
// of the maps. Global: the header declares them outside any namespace, as C does.
struct cg_verdict_lookups {
  const cmdgate::rules::PolicyImage* image;
  const cmdgate::rules::KernelFacts* facts;
};

extern "C" {
#include "shared/cmdgate_verdict.h"
}

namespace {

constexpr uint32_t kSlot = 0;

}  // namespace

static __u8 cg_lookup_identity(cg_verdict_lookups* l, bool agent, bool* check_path) {
  const auto& facts = *l->facts;
  if (facts.learned) {
    const cg_inode_verdict v = cmdgate::rules::inode_value(*facts.learned);
    return cg_pick_verdict(v.verdict, v.agent_verdict, v.flags, agent, check_path);
  }
  for (const auto& [key, v] : l->image->inodes) {
    if (key.dev == cmdgate::kernel_dev_from_user(facts.file.dev) && key.ino == facts.file.ino) {
      return cg_pick_verdict(v.verdict, v.agent_verdict, v.flags, agent, check_path);
    }
  }
  *check_path = false;
  return CG_VERDICT_NONE;
}

// BPF_MAP_TYPE_LPM_TRIE: the entry with the longest prefixlen whose first prefixlen bits of
// data (slot, then path bytes) equal the key's.
static __u8 cg_lookup_path(cg_verdict_lookups* l, bool agent) {
  const auto& facts = *l->facts;
  if (facts.path.empty() || facts.path_cut) {
    return CG_VERDICT_EVALUATE;
  }
  cg_path_key key{};
  key.prefixlen = 8 * (1 + CG_LPM_PATH_MAX);
  key.slot = kSlot;
  std::memcpy(key.path, facts.path.data(), std::min<size_t>(facts.path.size(), CG_LPM_PATH_MAX));
  const cg_path_verdict* best = nullptr;
  uint32_t best_bits = 0;
  for (const auto& [entry, v] : l->image->paths) {
    if (entry.prefixlen <= key.prefixlen && entry.prefixlen >= best_bits &&
        std::memcmp(&entry.slot, &key.slot, entry.prefixlen / 8) == 0) {
      best = &v;
      best_bits = entry.prefixlen;
    }
  }
  if (best == nullptr) {
    return CG_VERDICT_NONE;
  }
  return agent ? best->agent_verdict : best->verdict;
}

namespace cmdgate::rules {

KernelVerdict simulate_kernel(const rules::KernelPolicy& kp, const KernelFacts& facts) {
  const PolicyImage image = policy_image(kp, kSlot);
  cg_verdict_lookups lookups{&image, &facts};
  __u32 flags = facts.script ? CG_EXEC_SCRIPT : 0;
  if (facts.file_kinds & kFileMemfd) {
    flags |= CG_EXEC_MEMFD;
  } else if (facts.file_kinds & kFileDeleted) {
    flags |= CG_EXEC_DELETED;
  }
  __u8 v = cg_file_verdict(&image.meta, flags, facts.labelled, &lookups);
  if (facts.no_interp) {
    v = cg_max_verdict(v, cg_loader_verdict(&image.meta, facts.labelled));
  }
  return static_cast<KernelVerdict>(v);
}

}  // namespace cmdgate::rules
