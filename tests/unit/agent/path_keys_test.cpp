#include "probe/path_keys.h"

#include <gtest/gtest.h>

#include <cstring>
#include <string>
#include <vector>

namespace cmdgate::probe {
namespace {

cg_path_key key(uint8_t slot, const std::string& path, uint32_t prefixlen) {
  cg_path_key k{};
  k.slot = slot;
  std::memcpy(k.path, path.data(), std::min(path.size(), sizeof(k.path)));
  k.prefixlen = prefixlen;
  return k;
}

// What an LPM trie reads of a key: its prefixlen and the bits the prefix covers.
bool same_prefix(const cg_path_key& a, const cg_path_key& b) {
  if (a.prefixlen != b.prefixlen) {
    return false;
  }
  const auto* x = reinterpret_cast<const uint8_t*>(&a.slot);
  const auto* y = reinterpret_cast<const uint8_t*>(&b.slot);
  const uint32_t whole = a.prefixlen / 8;
  if (std::memcmp(x, y, whole) != 0) {
    return false;
  }
  const uint32_t bits = a.prefixlen % 8;
  const auto mask = static_cast<uint8_t>(0xff00u >> bits);
  return bits == 0 || (x[whole] & mask) == (y[whole] & mask);
}

TEST(PathKeys, GivesBackEveryKeyItsPrefixCovers) {
  const std::string longest(CG_LPM_PATH_MAX, 'p');
  const std::vector<cg_path_key> added = {
      key(0, "/srv/app-1/", 8 * (1 + 11)),
      key(1, "/", 8 * 2),
      key(1, "/opt/x", 8 * 1 + 3),  // a prefix that ends inside a byte
      key(0, longest, 8 * (1 + CG_LPM_PATH_MAX)),
      key(1, "", 0),
  };
  PathKeys keys;
  for (const auto& k : added) {
    keys.add(k);
  }
  ASSERT_EQ(keys.size(), added.size());
  std::vector<cg_path_key> back;
  keys.for_each([&](const cg_path_key& k) { back.push_back(k); });
  ASSERT_EQ(back.size(), added.size());
  for (size_t i = 0; i < added.size(); ++i) {
    EXPECT_TRUE(same_prefix(back[i], added[i])) << "key " << i;
  }
  keys.clear();
  EXPECT_EQ(keys.size(), 0u);
  keys.for_each([](const cg_path_key&) { ADD_FAILURE() << "a cleared list has no keys"; });
}

}  // namespace
}  // namespace cmdgate::probe
