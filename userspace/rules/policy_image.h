#pragma once
// What a compiled kernel policy becomes in the BPF maps of one policy slot: the slot's class
// verdicts, the rule-inode entries and the path-trie entries. The daemon writes exactly this
// (probe/policy_maps.cpp) and the tests' model of the kernel reads it
// (kernel_model.h), so both see the same entries.

#include <cstdint>
#include <cstring>
#include <map>
#include <utility>
#include <vector>

#include "rules/kernel_policy.h"

extern "C" {
#include "shared/cmdgate_abi.h"
}

namespace cmdgate::rules {

struct PathKeyLess {
  bool operator()(const cg_path_key& a, const cg_path_key& b) const {
    return std::memcmp(&a, &b, sizeof(a)) < 0;
  }
};

struct PolicyImage {
  cg_policy_meta meta{};  // generation left 0: the publisher sets it
  std::vector<std::pair<cg_inode_key, cg_inode_verdict>> inodes;  // the slot's own map
  std::map<cg_path_key, cg_path_verdict, PathKeyLess> paths;
};

[[nodiscard]] PolicyImage policy_image(const KernelPolicy& policy, uint32_t slot);

// The value of a rule-inode or learned entry for a file's verdicts.
[[nodiscard]] cg_inode_verdict inode_value(const InodeVerdict& v);

[[nodiscard]] inline uint8_t raw_verdict(KernelVerdict v) { return static_cast<uint8_t>(v); }

}  // namespace cmdgate::rules
