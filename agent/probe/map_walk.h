#pragma once
// Walking a BPF map's keys from user space.

#include <bpf/bpf.h>

#include <cerrno>

#include "common/errno_error.h"
#include "common/result.h"

namespace cmdgate::probe {

// Every key of a map; fails unless the walk reached the end.
template <typename Key, typename Fn>
Status for_each_key(int fd, Fn&& fn) {
  Key key{};
  Key next{};
  const Key* prev = nullptr;
  while (bpf_map_get_next_key(fd, prev, &next) == 0) {
    fn(next);
    key = next;
    prev = &key;
  }
  if (errno != ENOENT) {
    return errno_error("walking a BPF map");
  }
  return {};
}

}  // namespace cmdgate::probe
