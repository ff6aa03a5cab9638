#include "common/forked_call.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <optional>

#include "common/errno_error.h"
#include "common/fd.h"
#include "common/wait_readable.h"
#include "common/write_all.h"

namespace cmdgate {
namespace {

enum ChildExit : int { kDone = 0, kBodyThrew = 2, kWriteFailed = 3, kOrphaned = 4 };

[[noreturn]] void child_main(const std::function<std::string()>& body, int out, pid_t parent) {
  ::prctl(PR_SET_PDEATHSIG, SIGKILL);
  if (::getppid() != parent) {  // the parent went before the death signal was armed
    ::_exit(kOrphaned);
  }
  std::string bytes;
  try {
    bytes = body();
  } catch (...) {
    ::_exit(kBodyThrew);
  }
  ::_exit(write_all(out, bytes) ? kDone : kWriteFailed);
}

// The child's wait status; none when it cannot be had (SIGCHLD ignored reaps children unasked).
std::optional<int> reap(pid_t pid) {
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0) {
    if (errno != EINTR) {
      return std::nullopt;
    }
  }
  return status;
}

Error child_failed(int status) {
  if (WIFSIGNALED(status)) {
    const char* name = ::sigabbrev_np(WTERMSIG(status));
    return Error::format("the child was killed by SIG{}", name != nullptr ? name : "?");
  }
  switch (WEXITSTATUS(status)) {
    case kBodyThrew: return Error{"the child's work threw an exception"};
    case kWriteFailed: return Error{"the child could not write its result"};
    case kOrphaned: return Error{"the child's parent thread ended"};
    default: return Error::format("the child exited with status {}", WEXITSTATUS(status));
  }
}

}  // namespace

Result<std::string> run_in_child(const std::function<std::string()>& body,
                                 std::chrono::milliseconds deadline) {
  int ends[2];
  // Close-on-exec: a program another thread starts meanwhile must not hold the write end, which
  // would keep the read below from ever seeing the end of the child's output.
  if (::pipe2(ends, O_CLOEXEC) != 0) {
    return errno_error("pipe2");
  }
  Fd in(ends[0]);
  Fd out(ends[1]);
  const pid_t parent = ::getpid();
  const pid_t pid = ::fork();
  if (pid < 0) {
    return errno_error("fork");
  }
  if (pid == 0) {
    in.reset();
    child_main(body, out.get(), parent);
  }
  out.reset();

  const auto until = std::chrono::steady_clock::now() + deadline;
  std::string bytes;
  char buf[65536];
  for (;;) {
    const int ready = wait_readable(in.get(), until);
    if (ready <= 0) {
      const int err = errno;
      ::kill(pid, SIGKILL);  // not reaped yet, so the pid is still this child's
      (void)reap(pid);
      if (ready < 0) {
        return errno_error("poll", err);
      }
      return Error::format("the child did not finish within {} ms", deadline.count());
    }
    const ssize_t n = ::read(in.get(), buf, sizeof buf);
    if (n < 0 && errno == EINTR) {
      continue;
    }
    if (n <= 0) {
      break;  // end of output (or a broken pipe): the exit status says which
    }
    bytes.append(buf, static_cast<size_t>(n));
  }
  const std::optional<int> status = reap(pid);
  if (!status) {  // how it ended is unknown, so its answer is not to be trusted
    return errno_error("waiting for the child");
  }
  if (!WIFEXITED(*status) || WEXITSTATUS(*status) != kDone) {
    return child_failed(*status);
  }
  return bytes;
}

}  // namespace cmdgate
