#include "approval/peer.h"

#include <signal.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "common/errno_error.h"
#include "kernel/proc_parse.h"

#ifndef SO_PEERPIDFD
#define SO_PEERPIDFD 77
#endif

namespace cmdgate {
namespace {

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
  uint32_t parent = status_field(*status, "PPid:");
  for (int guard = 0; parent > 0 && guard < 4096; ++guard) {
    p.live_chain.push_back(parent);
    auto ps = proc.read(parent, "status");
    if (!ps || parent == 1) {
      break;
    }
    parent = status_field(*ps, "PPid:");
  }
  p.kernel = kernel.ancestry(pidfd.get());

  // Everything above was read by pid: it only describes the client if the client still lives.
  if (::syscall(SYS_pidfd_send_signal, pidfd.get(), 0, nullptr, 0) != 0) {
    return Error::format("client pid {} exited while being identified", p.pid);
  }
  return p;
}

}  // namespace cmdgate
