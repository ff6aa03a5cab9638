#pragma once
// What changes when a file's content can have changed: (device, inode, size, mtime, ctime). A
// digest cached under a stamp holds while the file keeps it.

#include <sys/stat.h>

#include <cstddef>
#include <cstdint>

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

}  // namespace cmdgate
