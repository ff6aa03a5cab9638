#include "probe/parked_map.h"

#include <bpf/bpf.h>

#include "probe/abi_check.h"

namespace cmdgate::probe {

std::optional<ParkedEntry> ParkedMap::lookup(uint32_t tgid) const {
  cg_parked v{};
  if (bpf_map_lookup_elem(fd_, &tgid, &v) != 0) {
    return std::nullopt;
  }
  return ParkedEntry{tgid, v.exec_id, v.parked_ns, (v.flags & CG_PARKED_UNDELIVERED) != 0};
}

bool ParkedMap::erase(uint32_t tgid, uint64_t exec_id) {
  // A parked process cannot exec again, so the entry cannot change between these two calls.
  auto e = lookup(tgid);
  if (!e || e->exec_id != exec_id) {
    return false;
  }
  return bpf_map_delete_elem(fd_, &tgid) == 0;
}

bool ParkedMap::adopt(uint32_t tgid, uint64_t now_ns) {
  cg_parked v{};
  v.exec_id = now_ns;  // unique: kernel exec ids are exec times on the same clock
  v.parked_ns = 0;     // older than any grace period
  v.flags = CG_PARKED_UNDELIVERED;
  return bpf_map_update_elem(fd_, &tgid, &v, BPF_NOEXIST) == 0;
}

std::vector<ParkedEntry> ParkedMap::list() const {
  std::vector<ParkedEntry> out;
  uint32_t key = 0;
  uint32_t next = 0;
  uint32_t* prev = nullptr;
  while (bpf_map_get_next_key(fd_, prev, &next) == 0) {
    if (auto e = lookup(next)) {
      out.push_back(*e);
    }
    key = next;
    prev = &key;
  }
  return out;
}

}  // namespace cmdgate::probe
