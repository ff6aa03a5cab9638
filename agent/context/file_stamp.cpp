#include "context/file_stamp.h"

#include <initializer_list>

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

}  // namespace cmdgate
