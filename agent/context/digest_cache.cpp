#include "context/digest_cache.h"

namespace cmdgate {

std::optional<FileDigests> DigestCache::find(const FileStamp& stamp) {
  auto it = index_.find(stamp);
  if (it == index_.end()) {
    return std::nullopt;
  }
  lru_.splice(lru_.begin(), lru_, it->second);
  return it->second->second;
}

void DigestCache::insert(const FileStamp& stamp, const FileDigests& digest) {
  if (capacity_ == 0) {
    return;
  }
  if (auto it = index_.find(stamp); it != index_.end()) {
    // A read that did not compute the MD5 keeps the one an earlier read of this content did.
    FileDigests& cached = it->second->second;
    const bool keep_md5 = !digest.md5 && cached.md5 && cached.sha256 == digest.sha256;
    const std::optional<trust::Md5> md5 = keep_md5 ? cached.md5 : digest.md5;
    cached = digest;
    cached.md5 = md5;
    lru_.splice(lru_.begin(), lru_, it->second);
    return;
  }
  lru_.emplace_front(stamp, digest);
  index_[stamp] = lru_.begin();
  if (lru_.size() > capacity_) {
    index_.erase(lru_.back().first);
    lru_.pop_back();
  }
}

}  // namespace cmdgate
