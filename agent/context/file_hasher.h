#pragma once
// SHA-256 of executables, cached by what changes when a file's content can have changed:
// (device, inode, size, mtime, ctime). Files are hashed through an fd of the exact file the
// process executes (/proc/<pid>/exe), never by a path that could have been swapped.

#include <sys/stat.h>

#include <cstdint>
#include <list>
#include <unordered_map>

#include "common/result.h"
#include "rules/model.h"

namespace cmdgate {

struct FileStamp {
  uint64_t dev = 0;
  uint64_t ino = 0;
  uint64_t size = 0;
  int64_t mtime_sec = 0;
  int64_t mtime_nsec = 0;
  int64_t ctime_sec = 0;
  int64_t ctime_nsec = 0;
  friend bool operator==(const FileStamp&, const FileStamp&) = default;

  static FileStamp of(const struct stat& st);
};

struct FileStampHash {
  size_t operator()(const FileStamp& s) const noexcept;
};

class FileHasher {
 public:
  explicit FileHasher(size_t capacity = 8192) : capacity_(capacity) {}

  // Hash of the open file fd (read from offset 0 with pread), from the cache when its stamp is
  // unchanged.
  [[nodiscard]] Result<rules::Sha256> hash(int fd);

  [[nodiscard]] size_t hits() const { return hits_; }
  [[nodiscard]] size_t misses() const { return misses_; }

 private:
  using Lru = std::list<std::pair<FileStamp, rules::Sha256>>;
  size_t capacity_;
  Lru lru_;
  std::unordered_map<FileStamp, Lru::iterator, FileStampHash> index_;
  size_t hits_ = 0;
  size_t misses_ = 0;
};

}  // namespace cmdgate
