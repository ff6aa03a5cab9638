#include "approval/peer.h"

#include <signal.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <charconv>
#include <sstream>

#include "common/errno_error.h"

#ifndef SO_PEERPIDFD
#define SO_PEERPIDFD 77
#endif

namespace cmdgate {
namespace {

uint32_t status_number(std::string_view status, std::string_view key) {
  const size_t at = status.find(key);
  if (at == std::string_view::npos) {
    return 0;
  }
  std::string_view rest = status.substr(at + key.size());
  while (!rest.empty() && (rest.front() == ' ' || rest.front() == '\t')) {
    rest.remove_prefix(1);
  }
  uint32_t v = 0;
  std::from_chars(rest.data(), rest.data() + rest.size(), v);
  return v;
}

std::vector<uint32_t> status_groups(std::string_view status) {
  std::vector<uint32_t> out;
  const size_t at = status.find("\nGroups:");
  if (at == std::string_view::npos) {
    return out;
  }
  std::istringstream line(std::string(status.substr(at + 8, status.find('\n', at + 1) - at - 8)));
  uint32_t g = 0;
  while (line >> g) {
    out.push_back(g);
  }
  return out;
}

uint32_t session_of(const ProcFs& proc, uint32_t pid) {
  auto stat = proc.read(pid, "stat");
  if (!stat) {
    return 0;
  }
  const size_t close = stat->rfind(')');
  if (close == std::string::npos) {
    return 0;
  }
  std::istringstream rest(stat->substr(close + 2));
  std::string state;
  int64_t ppid = 0, pgrp = 0, session = 0;
  rest >> state >> ppid >> pgrp >> session;
  return static_cast<uint32_t>(session);
}

Fd pidfd_of(int socket_fd, pid_t pid) {
  int fd = -1;
  socklen_t len = sizeof(fd);
  if (::getsockopt(socket_fd, SOL_SOCKET, SO_PEERPIDFD, &fd, &len) == 0 && fd >= 0) {
    return Fd(fd);  // pinned at connect(): cannot name a later process with the same pid
  }
  return Fd(static_cast<int>(::syscall(SYS_pidfd_open, pid, 0)));
}

}  // namespace

Result<Peer> identify_peer(int socket_fd, const ProcFs& proc, const KernelPort& kernel) {
  ucred cred{};
  socklen_t len = sizeof(cred);
  if (::getsockopt(socket_fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) != 0) {
    return errno_error("SO_PEERCRED");
  }
  Peer p;
  p.pid = static_cast<uint32_t>(cred.pid);
  p.uid = cred.uid;
  p.gid = cred.gid;
  Fd pidfd = pidfd_of(socket_fd, cred.pid);
  if (!pidfd) {
    return Error::format("client pid {} is gone", cred.pid);
  }

  auto status = proc.read(p.pid, "status");
  if (!status) {
    return status.error();
  }
  p.groups = status_groups(*status);
  p.sid = session_of(proc, p.pid);
  if (auto exe = proc.read_link(p.pid, "exe")) {
    p.exe = std::move(*exe);
  }
  uint32_t parent = status_number(*status, "\nPPid:");
  for (int guard = 0; parent > 0 && guard < 4096; ++guard) {
    p.live_chain.push_back(parent);
    auto ps = proc.read(parent, "status");
    if (!ps || parent == 1) {
      break;
    }
    parent = status_number(*ps, "\nPPid:");
  }
  p.kernel = kernel.ancestry(pidfd.get());

  // Everything above was read by pid: it only describes the client if the client still lives.
  if (::syscall(SYS_pidfd_send_signal, pidfd.get(), 0, nullptr, 0) != 0) {
    return Error::format("client pid {} exited while being identified", p.pid);
  }
  return p;
}

}  // namespace cmdgate
