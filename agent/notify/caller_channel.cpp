#include "notify/caller_channel.h"

#include <fcntl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include <cerrno>
#include <charconv>
#include <fstream>
#include <string>

#include "common/fd.h"

namespace cmdgate {
namespace {

// fdinfo's "flags:" (octal): the descriptor's access mode.
bool open_for_writing(uint32_t tgid) {
  std::ifstream info(fmt::format("/proc/{}/fdinfo/2", tgid));
  std::string line;
  while (std::getline(info, line)) {
    if (line.starts_with("flags:")) {
      std::string_view v(line);
      v.remove_prefix(6);
      while (!v.empty() && (v.front() == '\t' || v.front() == ' ')) {
        v.remove_prefix(1);
      }
      unsigned flags = 0;
      std::from_chars(v.data(), v.data() + v.size(), flags, 8);
      const unsigned mode = flags & O_ACCMODE;
      return mode == O_WRONLY || mode == O_RDWR;
    }
  }
  return false;
}

// Terminals only: opening another character device can have effects of its own (a watchdog).
bool is_terminal(dev_t rdev) {
  const unsigned m = major(rdev);
  return (m >= 136 && m <= 143) || m == 4 || m == 5;  // pty slaves, ttys, /dev/tty & console
}

bool write_all_or_nothing(int fd, const std::string& text) {
  const ssize_t n = ::write(fd, text.data(), text.size());
  return n == static_cast<ssize_t>(text.size());
}

}  // namespace

bool StderrChannel::tell(uint32_t tgid, std::string_view line) {
  // A pipe write of at most PIPE_BUF bytes is atomic: all of it or EAGAIN.
  std::string text(line.substr(0, PIPE_BUF - 1));
  text += '\n';
  const std::string path = fmt::format("/proc/{}/fd/2", tgid);
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0 || !open_for_writing(tgid)) {
    ++stats_.no_stderr;
    return false;
  }
  bool ok = false;
  if (S_ISFIFO(st.st_mode) || (S_ISCHR(st.st_mode) && is_terminal(st.st_rdev))) {
    // A description of the daemon's own: O_NONBLOCK here changes nothing for the process or for
    // others sharing its pipe or terminal.
    Fd fd(::open(path.c_str(), O_WRONLY | O_NONBLOCK | O_NOCTTY | O_CLOEXEC));
    ok = fd && write_all_or_nothing(fd.get(), text);
  } else if (S_ISSOCK(st.st_mode) || S_ISREG(st.st_mode)) {
    Fd pidfd(static_cast<int>(::syscall(SYS_pidfd_open, tgid, 0)));
    Fd fd(pidfd ? static_cast<int>(::syscall(SYS_pidfd_getfd, pidfd.get(), 2, 0)) : -1);
    if (fd && S_ISSOCK(st.st_mode)) {
      ok = ::send(fd.get(), text.data(), text.size(), MSG_DONTWAIT | MSG_NOSIGNAL) ==
           static_cast<ssize_t>(text.size());
    } else if (fd && paths_.on_local_storage(tgid, fd.get())) {
      ok = write_all_or_nothing(fd.get(), text);  // at the process's own offset, as it would
    }
  } else {
    ++stats_.no_stderr;
    return false;
  }
  ok ? ++stats_.told : ++stats_.lost;
  return ok;
}

}  // namespace cmdgate
