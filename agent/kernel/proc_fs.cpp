#include "kernel/proc_fs.h"

#include <fcntl.h>
#include <unistd.h>

#include <climits>

#include "common/errno_error.h"

namespace cmdgate {
namespace {

std::string proc_path(uint32_t pid, std::string_view entry) {
  return fmt::format("/proc/{}/{}", pid, entry);
}

}  // namespace

Result<std::string> SystemProcFs::read(uint32_t pid, std::string_view entry,
                                       size_t max_bytes) const {
  auto fd = open(pid, entry);
  if (!fd) {
    return fd.error();
  }
  std::string out;
  char buf[16384];
  while (out.size() < max_bytes) {
    const ssize_t n = ::read(fd->get(), buf, std::min(sizeof(buf), max_bytes - out.size()));
    if (n < 0) {
      if (errno == EINTR) {
        continue;
      }
      return errno_error("reading " + proc_path(pid, entry));
    }
    if (n == 0) {
      break;
    }
    out.append(buf, static_cast<size_t>(n));
  }
  return out;
}

Result<std::string> SystemProcFs::read_link(uint32_t pid, std::string_view entry) const {
  const std::string path = proc_path(pid, entry);
  char buf[PATH_MAX];
  const ssize_t n = ::readlink(path.c_str(), buf, sizeof(buf));
  if (n < 0) {
    return errno_error("readlink " + path);
  }
  return std::string(buf, static_cast<size_t>(n));
}

Result<Fd> SystemProcFs::open(uint32_t pid, std::string_view entry) const {
  const std::string path = proc_path(pid, entry);
  Fd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
  if (!fd) {
    return errno_error("open " + path);
  }
  return fd;
}

}  // namespace cmdgate
