#include "common/fuse_owner.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <charconv>
#include <fstream>
#include <sstream>
#include <vector>

#include "common/fd.h"

namespace cmdgate {

namespace {

// mountinfo escapes space, tab, newline and backslash as \ooo.
std::string unescape(std::string_view s) {
  std::string out;
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '\\' && i + 3 < s.size()) {
      int v = 0;
      bool octal = true;
      for (size_t k = 1; k <= 3 && octal; ++k) {
        octal = s[i + k] >= '0' && s[i + k] <= '7';
        v = v * 8 + (s[i + k] - '0');
      }
      if (octal) {
        out.push_back(static_cast<char>(v));
        i += 3;
        continue;
      }
    }
    out.push_back(s[i]);
  }
  return out;
}

std::vector<std::string_view> split(std::string_view s, char sep) {
  std::vector<std::string_view> parts;
  size_t start = 0;
  for (;;) {
    const size_t end = s.find(sep, start);
    parts.push_back(s.substr(start, end == std::string_view::npos ? s.npos : end - start));
    if (end == std::string_view::npos) {
      return parts;
    }
    start = end + 1;
  }
}

bool under(std::string_view path, std::string_view point) {
  if (point == "/") {
    return true;
  }
  return path.starts_with(point) && (path.size() == point.size() || path[point.size()] == '/');
}

template <typename T>
std::optional<T> option_value(const std::vector<std::string_view>& options, std::string_view key) {
  for (std::string_view o : options) {
    if (o.starts_with(key) && o.size() > key.size() && o[key.size()] == '=') {
      T v{};
      const std::string_view text = o.substr(key.size() + 1);
      const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
      if (ec == std::errc() && end == text.data() + text.size()) {
        return v;
      }
    }
  }
  return std::nullopt;
}

}  // namespace

std::optional<FuseOwner> fuse_owner_of(std::string_view mountinfo, std::string_view path) {
  std::optional<FuseOwner> best;
  size_t best_len = 0;
  bool best_is_fuse = false;
  for (std::string_view line : split(mountinfo, '\n')) {
    // id parent major:minor root mount-point options [optional fields...] - type source super
    const size_t dash = line.find(" - ");
    if (dash == std::string_view::npos) {
      continue;
    }
    const auto head = split(line.substr(0, dash), ' ');
    const auto tail = split(line.substr(dash + 3), ' ');
    if (head.size() < 6 || tail.size() < 3) {
      continue;
    }
    const std::string point = unescape(head[4]);
    if (!under(path, point) || point.size() < best_len) {
      continue;
    }
    // A later mount on the same point hides the earlier one.
    best_len = point.size();
    const std::string_view type = tail[0];
    best_is_fuse = type == "fuse" || type == "fuseblk" || type.starts_with("fuse.");
    best.reset();
    if (!best_is_fuse) {
      continue;
    }
    const auto super = split(tail[2], ',');
    const auto uid = option_value<uid_t>(super, "user_id");
    const auto gid = option_value<gid_t>(super, "group_id");
    bool allow_other = false;
    for (std::string_view o : super) {
      allow_other = allow_other || o == "allow_other";
    }
    if (uid && gid && !allow_other) {
      best = FuseOwner{point, *uid, *gid};
    }
  }
  return best;
}

std::optional<struct stat> stat_as_fuse_owner(const std::string& path,
                                              std::chrono::milliseconds timeout) {
  std::ifstream in("/proc/self/mountinfo");
  std::stringstream text;
  text << in.rdbuf();
  const auto owner = fuse_owner_of(text.str(), path);
  if (!owner || owner->uid == 0 || ::geteuid() != 0) {
    return std::nullopt;
  }
  int fds[2];
  if (::pipe2(fds, O_CLOEXEC) != 0) {
    return std::nullopt;
  }
  Fd read_end(fds[0]);
  Fd write_end(fds[1]);
  // The caller may have threads: the child makes raw system calls only (glibc's set*id would
  // try to reach threads that fork did not copy).
  const pid_t pid = ::fork();
  if (pid < 0) {
    return std::nullopt;
  }
  if (pid == 0) {
    struct stat st {};
    if (::syscall(SYS_setgroups, 0, nullptr) == 0 &&
        ::syscall(SYS_setresgid, owner->gid, owner->gid, owner->gid) == 0 &&
        ::syscall(SYS_setresuid, owner->uid, owner->uid, owner->uid) == 0 &&
        ::stat(path.c_str(), &st) == 0) {
      (void)!::write(write_end.get(), &st, sizeof(st));
    }
    ::_exit(0);
  }
  write_end = Fd();
  std::optional<struct stat> result;
  pollfd pfd{read_end.get(), POLLIN, 0};
  if (::poll(&pfd, 1, static_cast<int>(timeout.count())) == 1) {
    struct stat st {};
    if (::read(read_end.get(), &st, sizeof(st)) == static_cast<ssize_t>(sizeof(st))) {
      result = st;
    }
  } else {
    ::kill(pid, SIGKILL);  // a request to a FUSE server waits killably
  }
  // Bounded: a child stuck where SIGKILL cannot reach it is left unreaped rather
  // than stall the caller.
  for (int i = 0; i < 100; ++i) {
    const pid_t r = ::waitpid(pid, nullptr, WNOHANG);
    if (r == pid || (r < 0 && errno != EINTR)) {
      break;
    }
    ::usleep(10000);
  }
  return result;
}

}  // namespace cmdgate
