#include "kernel/pidfd_process_control.h"

#include <signal.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "common/errno_error.h"

namespace cmdgate {
namespace {

int pidfd_open(pid_t pid) { return static_cast<int>(::syscall(SYS_pidfd_open, pid, 0)); }

int pidfd_send_signal(int pidfd, int sig) {
  return static_cast<int>(::syscall(SYS_pidfd_send_signal, pidfd, sig, nullptr, 0));
}

}  // namespace

Result<ProcessHandle> PidfdProcessControl::pin(uint32_t tgid, uint64_t exec_id) {
  Fd fd(pidfd_open(static_cast<pid_t>(tgid)));
  if (!fd) {
    return errno_error("pidfd_open(" + std::to_string(tgid) + ")");
  }
  // Checked after the pidfd exists: if the entry still names this exec now, the pidfd is that
  // process (a parked process cannot exec again, and its exit removes the entry).
  auto entry = parked_.lookup(tgid);
  if (!entry || entry->exec_id != exec_id) {
    return Error::format("process {} is no longer parked for exec {}", tgid, exec_id);
  }
  return ProcessHandle{tgid, exec_id, std::move(fd)};
}

Status PidfdProcessControl::resume(ProcessHandle& p) {
  parked_.erase(p.tgid, p.exec_id);
  if (pidfd_send_signal(p.pidfd.get(), SIGCONT) != 0) {
    return errno_error("SIGCONT to " + std::to_string(p.tgid));
  }
  return {};
}

Status PidfdProcessControl::kill(ProcessHandle& p) {
  const int rc = pidfd_send_signal(p.pidfd.get(), SIGKILL);
  const int err = errno;
  parked_.erase(p.tgid, p.exec_id);
  if (rc != 0 && err != ESRCH) {
    return errno_error("SIGKILL to " + std::to_string(p.tgid), err);
  }
  return {};
}

}  // namespace cmdgate
