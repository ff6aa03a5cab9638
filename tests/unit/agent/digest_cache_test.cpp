#include "context/digest_cache.h"

#include <gtest/gtest.h>

namespace cmdgate {
namespace {

FileStamp stamp(uint64_t ino) {
  FileStamp s;
  s.dev = 1;
  s.ino = ino;
  s.size = 10;
  return s;
}

FileDigests digest(uint8_t b) {
  FileDigests d{};
  d.sha256.fill(b);
  d.md5.emplace().fill(b);
  return d;
}

TEST(DigestCache, LeastRecentlyUsedLeavesFirst) {
  DigestCache cache(2);
  cache.insert(stamp(1), digest(1));
  cache.insert(stamp(2), digest(2));
  ASSERT_TRUE(cache.find(stamp(1)));  // 2 is now the oldest
  cache.insert(stamp(3), digest(3));
  EXPECT_EQ(cache.size(), 2u);
  EXPECT_FALSE(cache.find(stamp(2)));
  EXPECT_EQ(cache.find(stamp(1)), digest(1));
  EXPECT_EQ(cache.find(stamp(3)), digest(3));
}

TEST(DigestCache, AnyFieldOfTheStampMisses) {
  DigestCache cache(4);
  FileStamp s = stamp(1);
  cache.insert(s, digest(1));
  FileStamp later = s;
  later.ctime_nsec = 1;
  EXPECT_FALSE(cache.find(later));
  EXPECT_TRUE(cache.find(s));
}

// A later read of the same content that did not compute the MD5 keeps the one cached; a
// different content replaces it.
TEST(DigestCache, AReadWithoutTheMd5KeepsTheCachedOne) {
  DigestCache cache(4);
  cache.insert(stamp(1), digest(1));
  FileDigests sha_only = digest(1);
  sha_only.md5.reset();
  cache.insert(stamp(1), sha_only);
  EXPECT_EQ(cache.find(stamp(1)), digest(1));

  FileDigests other = digest(2);
  other.md5.reset();
  cache.insert(stamp(1), other);
  EXPECT_EQ(cache.find(stamp(1)), other);
}

TEST(DigestCache, ZeroCapacityKeepsNothing) {
  DigestCache cache(0);
  cache.insert(stamp(1), digest(1));
  EXPECT_FALSE(cache.find(stamp(1)));
}

}  // namespace
}  // namespace cmdgate
