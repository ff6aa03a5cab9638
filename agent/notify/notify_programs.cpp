#include "notify/notify_programs.h"

#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <spdlog/spdlog.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <nlohmann/json.hpp>

#include "common/display_text.h"
#include "notify/request_json.h"

extern char** environ;

namespace cmdgate {

NotifyPrograms::~NotifyPrograms() {
  for (auto& [fd, r] : running_) {
    loop_.unwatch(fd);
    loop_.cancel(r.deadline);
    ::syscall(SYS_pidfd_send_signal, fd, SIGKILL, nullptr, 0);
    ::waitpid(r.pid, nullptr, 0);
  }
}

void NotifyPrograms::on_parked(const PendingRequest& r) {
  if (settings_.programs.empty()) {
    return;
  }
  const std::string json = request_json(r).dump(-1, ' ', true) + "\n";
  for (const auto& argv : settings_.programs) {
    start(argv, json, r.id);
  }
}

void NotifyPrograms::start(const std::vector<std::string>& argv, const std::string& json,
                           uint64_t request) {
  if (running_.size() >= settings_.max_running) {
    ++stats_.skipped;
    spdlog::warn("notify {}: not started for request {}: {} notify programs still run",
                 argv[0], request, running_.size());
    return;
  }
  int in[2];
  if (::pipe2(in, O_CLOEXEC) != 0) {
    ++stats_.failed;
    spdlog::warn("notify {}: no pipe for request {}", argv[0], request);
    return;
  }
  Fd read_end(in[0]);
  Fd write_end(in[1]);
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_adddup2(&actions, read_end.get(), 0);
  posix_spawn_file_actions_addopen(&actions, 1, "/dev/null", O_WRONLY, 0);
  posix_spawn_file_actions_addopen(&actions, 2, "/dev/null", O_WRONLY, 0);
  posix_spawnattr_t attr;
  posix_spawnattr_init(&attr);
  // A session of its own: nothing it does reaches the daemon's process group, and its
  // children can be killed with it.
  posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETSID | POSIX_SPAWN_SETSIGMASK);
  sigset_t none;
  sigemptyset(&none);
  posix_spawnattr_setsigmask(&attr, &none);
  std::vector<char*> args;
  for (const auto& a : argv) {
    args.push_back(const_cast<char*>(a.c_str()));
  }
  args.push_back(nullptr);
  pid_t pid = -1;
  const int err = ::posix_spawn(&pid, args[0], &actions, &attr, args.data(), environ);
  posix_spawn_file_actions_destroy(&actions);
  posix_spawnattr_destroy(&attr);
  read_end.reset();
  if (err != 0) {
    ++stats_.failed;
    spdlog::warn("notify {}: cannot start it for request {}: {}", argv[0], request,
                 std::strerror(err));
    return;
  }
  ++stats_.started;
  // A request fits a pipe; if a program does not read it, it loses the rest, not the daemon.
  ::fcntl(write_end.get(), F_SETFL, O_NONBLOCK);
  [[maybe_unused]] const ssize_t n = ::write(write_end.get(), json.data(), json.size());
  write_end.reset();
  Fd pidfd(static_cast<int>(::syscall(SYS_pidfd_open, pid, 0)));
  if (!pidfd) {
    ::waitpid(pid, nullptr, 0);
    return;
  }
  const int fd = pidfd.get();
  Running run{pid, std::move(pidfd), 0, argv[0], request};
  run.deadline = loop_.at(std::chrono::steady_clock::now() + settings_.timeout,
                          [this, fd] { expire(fd); });
  running_.emplace(fd, std::move(run));
  if (auto s = loop_.watch(fd, [this, fd] { reap(fd); }); !s) {
    expire(fd);
  }
}

void NotifyPrograms::reap(int pidfd) {
  auto it = running_.find(pidfd);
  if (it == running_.end()) {
    return;
  }
  int status = 0;
  ::waitpid(it->second.pid, &status, 0);
  if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
    ++stats_.failed;
    spdlog::warn("notify {}: failed for request {} ({})", it->second.name, it->second.request,
                 WIFEXITED(status) ? fmt::format("exit status {}", WEXITSTATUS(status))
                                   : fmt::format("signal {}", WTERMSIG(status)));
  }
  loop_.unwatch(pidfd);
  loop_.cancel(it->second.deadline);
  running_.erase(it);
}

void NotifyPrograms::expire(int pidfd) {
  auto it = running_.find(pidfd);
  if (it == running_.end()) {
    return;
  }
  ++stats_.timed_out;
  spdlog::warn("notify {}: still running for request {} after {} ms: killed", it->second.name,
               it->second.request, settings_.timeout.count());
  // Its whole session: a shell script's children go with it.
  ::kill(-it->second.pid, SIGKILL);
  ::syscall(SYS_pidfd_send_signal, pidfd, SIGKILL, nullptr, 0);
  it->second.deadline = 0;  // fired; reap() cancels nothing
  // Reaped when the pidfd turns readable.
}

}  // namespace cmdgate
