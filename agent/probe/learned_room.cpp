#include "probe/learned_room.h"

#include <bpf/bpf.h>

#include <algorithm>
#include <cerrno>
#include <vector>

#include "common/errno_error.h"
#include "shared/cmdgate_abi.h"

namespace cmdgate::probe {
namespace {

Status delete_keys(int fd, std::vector<cg_inode_key>& keys) {
  if (keys.empty()) {
    return {};
  }
  auto count = static_cast<__u32>(keys.size());
  if (bpf_map_delete_batch(fd, keys.data(), &count, nullptr) != 0) {
    return errno_error("deleting learned verdicts");
  }
  keys.clear();
  return {};
}

}  // namespace

Result<size_t> make_room_to_learn(int learned_fd, uint32_t generation, size_t at_least) {
  constexpr __u32 kChunk = 4096;
  std::vector<cg_inode_key> keys(kChunk);
  std::vector<cg_learned_verdict> values(kChunk);
  std::vector<cg_inode_key> stale;
  std::vector<cg_inode_key> current;  // candidates, should the stale ones not be enough
  size_t deleted = 0;
  __u32 batch = 0;
  for (bool first = true, more = true; more; first = false) {
    __u32 count = kChunk;
    if (bpf_map_lookup_batch(learned_fd, first ? nullptr : &batch, &batch, keys.data(),
                             values.data(), &count, nullptr) != 0) {
      if (errno != ENOENT) {
        return errno_error("reading the learned verdicts");
      }
      more = false;  // the last batch, possibly empty
    }
    for (__u32 i = 0; i < count; ++i) {
      if (values[i].generation != generation) {
        stale.push_back(keys[i]);
      } else if (current.size() < at_least) {
        current.push_back(keys[i]);
      }
    }
    deleted += stale.size();
    if (auto s = delete_keys(learned_fd, stale); !s) {
      return s.error();
    }
  }
  if (deleted < at_least) {
    current.resize(std::min(current.size(), at_least - deleted));
    deleted += current.size();
    if (auto s = delete_keys(learned_fd, current); !s) {
      return s.error();
    }
  }
  return deleted;
}

}  // namespace cmdgate::probe
