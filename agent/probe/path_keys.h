#pragma once
// The path-trie keys one policy slot holds, so that they can be deleted when the slot is reused.
// A key is 260 bytes, most of them past its prefix; only the bytes its prefix covers are kept
// (an LPM trie reads no further), which at thousands of glob rules is the difference between a
// quarter of a megabyte and a few dozen kilobytes held for as long as the policy is in force.

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <string>
#include <vector>

#include "shared/cmdgate_abi.h"

namespace cmdgate::probe {

class PathKeys {
 public:
  void add(const cg_path_key& key) {
    prefixlens_.push_back(key.prefixlen);
    bytes_.append(reinterpret_cast<const char*>(&key.slot), covered(key.prefixlen));
  }

  // fn(const cg_path_key&) for each key, in the order added.
  template <class Fn>
  void for_each(Fn&& fn) const {
    size_t offset = 0;
    for (const uint32_t prefixlen : prefixlens_) {
      cg_path_key key{};
      key.prefixlen = prefixlen;
      const size_t n = covered(prefixlen);
      std::memcpy(&key.slot, bytes_.data() + offset, n);
      offset += n;
      fn(key);
    }
  }

  [[nodiscard]] size_t size() const { return prefixlens_.size(); }
  void clear() {
    prefixlens_ = {};
    bytes_ = {};
  }

 private:
  // The bytes after prefixlen that the prefix reaches: the slot byte, then the path.
  static size_t covered(uint32_t prefixlen) {
    return std::min<size_t>((prefixlen + 7) / 8, sizeof(cg_path_key) - sizeof(uint32_t));
  }

  std::vector<uint32_t> prefixlens_;
  std::string bytes_;
};

}  // namespace cmdgate::probe
