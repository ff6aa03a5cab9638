#include "common/regular_file.h"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>

#include "common/errno_error.h"
#include "common/fd.h"

namespace cmdgate {

Result<std::string> read_regular_file(const std::string& path, size_t max_bytes,
                                      const std::function<Status(const struct stat&)>& check) {
  // O_NONBLOCK: opening a FIFO must not hang; it is refused below.
  const Fd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK));
  if (!fd) {
    return errno_error(path);
  }
  struct stat st {};
  if (::fstat(fd.get(), &st) != 0) {
    return errno_error(path);
  }
  if (!S_ISREG(st.st_mode)) {
    return Error::format("{}: not a regular file", path);
  }
  if (check) {
    if (auto s = check(st); !s) {
      return s.error();
    }
  }
  const auto too_large = [&](uint64_t size) {
    return Error::format("{}: file is {} bytes; at most {} are allowed", path, size, max_bytes);
  };
  if (static_cast<uint64_t>(st.st_size) > max_bytes) {
    return too_large(static_cast<uint64_t>(st.st_size));
  }
  std::string text;
  text.resize(static_cast<size_t>(st.st_size) + 1);  // one spare byte detects growth
  size_t used = 0;
  for (;;) {
    if (used == text.size()) {
      if (used > max_bytes) {
        return too_large(used);
      }
      text.resize(std::min(text.size() * 2 + 4096, max_bytes + 1));
    }
    const ssize_t n = ::read(fd.get(), text.data() + used, text.size() - used);
    if (n < 0) {
      if (errno == EINTR) {
        continue;
      }
      return errno_error(path);
    }
    if (n == 0) {
      break;
    }
    used += static_cast<size_t>(n);
  }
  text.resize(used);
  return text;
}

}  // namespace cmdgate
