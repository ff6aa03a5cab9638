#include "context/file_hasher.h"

#include <unistd.h>

#include "common/errno_error.h"
#include "rules/file_digest.h"

namespace cmdgate {

FileStamp FileStamp::of(const struct stat& st) {
  return {st.st_dev,           st.st_ino,           static_cast<uint64_t>(st.st_size),
          st.st_mtim.tv_sec,   st.st_mtim.tv_nsec, st.st_ctim.tv_sec,
          st.st_ctim.tv_nsec};
}

size_t FileStampHash::operator()(const FileStamp& s) const noexcept {
  uint64_t h = s.ino * 0x9E3779B97F4A7C15ull;
  for (uint64_t v : {s.dev, s.size, static_cast<uint64_t>(s.mtime_nsec),
                     static_cast<uint64_t>(s.ctime_nsec)}) {
    h = (h ^ v) * 0x100000001B3ull;
  }
  return static_cast<size_t>(h);
}

Result<rules::Sha256> FileHasher::hash(int fd) {
  struct stat st {};
  if (::fstat(fd, &st) != 0) {
    return errno_error("fstat before hashing");
  }
  const FileStamp stamp = FileStamp::of(st);
  if (auto it = index_.find(stamp); it != index_.end()) {
    lru_.splice(lru_.begin(), lru_, it->second);
    ++hits_;
    return it->second->second;
  }
  ++misses_;
  auto digest = rules::sha256_of_fd(fd);
  if (!digest) {
    return digest;
  }
  // A write while we read moves the stamp: do not cache a hash of a half-written file.
  struct stat after {};
  if (::fstat(fd, &after) == 0 && FileStamp::of(after) == stamp) {
    lru_.emplace_front(stamp, *digest);
    index_[stamp] = lru_.begin();
    if (lru_.size() > capacity_) {
      index_.erase(lru_.back().first);
      lru_.pop_back();
    }
  }
  return digest;
}

}  // namespace cmdgate
