#pragma once
// A file's digests by FileStamp, least recently used out first. A stamp changes whenever the
// content can have changed, so a hit never needs to touch the file.

#include <cstddef>
#include <list>
#include <optional>
#include <unordered_map>
#include <utility>

#include "context/file_stamp.h"
#include "context/hash_result.h"

namespace cmdgate {

class DigestCache {
 public:
  explicit DigestCache(size_t capacity) : capacity_(capacity) {}

  // Marks the entry as recently used.
  [[nodiscard]] std::optional<FileDigests> find(const FileStamp& stamp);
  void insert(const FileStamp& stamp, const FileDigests& digest);

  [[nodiscard]] size_t size() const { return lru_.size(); }

 private:
  using Lru = std::list<std::pair<FileStamp, FileDigests>>;
  size_t capacity_;
  Lru lru_;
  std::unordered_map<FileStamp, Lru::iterator, FileStampHash> index_;
};

}  // namespace cmdgate
