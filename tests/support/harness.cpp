#include "harness.h"

#include <fcntl.h>
#include <fmt/format.h>
#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <thread>

namespace cmdgate::test {

bool in_ci() {
  const char* ci = std::getenv("CI");
  return ci != nullptr && std::string(ci) == "true";
}

std::optional<std::string> missing_prerequisite() {
  if (::geteuid() != 0) {
    return "needs root";
  }
  if (::access("/sys/kernel/btf/vmlinux", R_OK) != 0) {
    return "needs /sys/kernel/btf/vmlinux";
  }
  if (::access(CMDGATED_PATH, X_OK) != 0) {
    return std::string("cmdgated not built at ") + CMDGATED_PATH;
  }
  return std::nullopt;
}

void MarkerTargetTest::SetUp() {
  CMDGATE_REQUIRE_ROOT_BPF();
  work_ = std::make_unique<TempDir>();
  target_ = work_->file("target");
  copy_file(marker_path(), target_);
}

RunResult run(const std::vector<std::string>& argv, std::chrono::milliseconds timeout) {
  RunResult r;
  int pipefd[2];
  if (::pipe2(pipefd, O_CLOEXEC) != 0) {
    return r;
  }
  const pid_t pid = ::fork();
  if (pid == 0) {
    ::dup2(pipefd[1], 1);
    exec_argv(argv);
  }
  ::close(pipefd[1]);
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  char buf[4096];
  for (;;) {
    pollfd pfd{pipefd[0], POLLIN, 0};
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
        deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0) {
      ::kill(pid, SIGKILL);
      break;
    }
    if (::poll(&pfd, 1, static_cast<int>(left.count())) <= 0) {
      continue;
    }
    const ssize_t n = ::read(pipefd[0], buf, sizeof(buf));
    if (n <= 0) {
      break;
    }
    r.out.append(buf, static_cast<size_t>(n));
  }
  ::close(pipefd[0]);
  int status = 0;
  ::waitpid(pid, &status, 0);
  r.exited = WIFEXITED(status);
  r.code = r.exited ? WEXITSTATUS(status) : -1;
  r.signal = WIFSIGNALED(status) ? WTERMSIG(status) : 0;
  return r;
}

std::optional<int> wait_status(pid_t pid, std::chrono::milliseconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  for (;;) {
    int status = 0;
    const pid_t r = ::waitpid(pid, &status, WNOHANG);
    if (r == pid) {
      return status;
    }
    if (r < 0 || std::chrono::steady_clock::now() > deadline) {
      return std::nullopt;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(2));
  }
}

char process_state(pid_t pid) {
  std::ifstream f(fmt::format("/proc/{}/stat", pid));
  std::string text((std::istreambuf_iterator<char>(f)), std::istreambuf_iterator<char>());
  const size_t close = text.rfind(')');
  if (close == std::string::npos || close + 2 >= text.size()) {
    return '?';
  }
  return text[close + 2];
}

bool wait_for(const std::function<bool()>& pred, std::chrono::milliseconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (std::chrono::steady_clock::now() < deadline) {
    if (pred()) {
      return true;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  return pred();
}

// Pinned state of test daemons whose test process is gone: left enforcing, it would judge every
// later test's execs. Removed in-process (no exec): unpinning detaches its programs.
bool sweep_stale_pins() {
  std::error_code ec;
  for (const auto& entry : std::filesystem::directory_iterator("/sys/fs/bpf", ec)) {
    const std::string name = entry.path().filename().string();
    constexpr std::string_view kPrefix = "cmdgate-test-";
    if (!name.starts_with(kPrefix)) {
      continue;
    }
    const std::string pid =
        name.substr(kPrefix.size(), name.find('-', kPrefix.size()) - kPrefix.size());
    if (pid.empty() || !std::all_of(pid.begin(), pid.end(), ::isdigit) || !exists("/proc/" + pid)) {
      std::filesystem::remove_all(entry.path(), ec);
    }
  }
  return true;
}

int uninstall(const std::string& pin_dir, const std::string& binary) {
  const RunResult r =
      run({binary.empty() ? cmdgated_path() : binary, "--uninstall", "--pin-dir", pin_dir});
  return r.exited ? r.code : -1;
}

std::string marker_path() {
  return CG_MARKER_PATH;
}
std::string cmdgated_path() {
  return CMDGATED_PATH;
}

std::string deny_path_rules(const std::string& path, const std::string& extra) {
  return fmt::format(R"(
default_action = "allow"
[[rule]]
id = "deny-target"
action = "deny"
path = "{}"
{}
)",
                     path, extra);
}
std::string ask_path_rules(const std::string& path, const std::string& timeout,
                           const std::string& extra) {
  return fmt::format(R"(
default_action = "allow"
[[rule]]
id = "ask-target"
action = "ask"
path = "{}"
timeout = "{}"
{}
)",
                     path, timeout, extra);
}

bool exists(const std::string& path) {
  return ::access(path.c_str(), F_OK) == 0;
}

void copy_file(const std::string& from, const std::string& to, mode_t mode) {
  std::filesystem::copy_file(from, to, std::filesystem::copy_options::overwrite_existing);
  ::chmod(to.c_str(), mode);
}

std::string sha256_hex(const std::string& path) {
  const RunResult r = run({"/usr/bin/sha256sum", path});
  return r.out.substr(0, 64);
}

std::unique_ptr<Agent> Agent::start(const Options& options) {
  std::unique_ptr<Agent> a(new Agent());
  a->write_rules(options.rules);
  const std::string sock = a->dir_.file("notify.sock");
  a->notify_.reset(::socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0));
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  std::snprintf(addr.sun_path, sizeof(addr.sun_path), "%s", sock.c_str());
  if (::bind(a->notify_.get(), reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0) {
    ADD_FAILURE() << "cannot bind the notify socket";
    return nullptr;
  }
  // A pin directory of its own: daemons of concurrent test runs must not share state. Its
  // name carries this test process's pid, so a later run can retire what a dead run left.
  static const bool swept = sweep_stale_pins();
  (void)swept;
  a->binary_ = options.binary;
  a->pin_dir_ = options.pin_dir.empty()
                    ? fmt::format("/sys/fs/bpf/cmdgate-test-{}-{}", ::getpid(),
                                  a->dir_.path().substr(a->dir_.path().rfind('.') + 1))
                    : options.pin_dir;
  std::vector<std::string> argv = options.wrapper;
  for (const auto& s :
       {options.binary.empty() ? cmdgated_path() : options.binary, std::string("--rules"),
        a->rules_path(), std::string("--audit-log"), a->dir_.file("decisions.jsonl"),
        std::string("--pin-dir"), a->pin_dir_, std::string("--socket"), a->socket_path()}) {
    argv.push_back(s);
  }
  // Its own last-known-good copy, unless the test keeps one across starts (a daemon of another
  // version may not know the setting).
  if (options.binary.empty() && std::find(options.args.begin(), options.args.end(),
                                          "--last-known-good") == options.args.end()) {
    argv.insert(argv.end(), {"--last-known-good", a->dir_.file("local-rules.json")});
  }
  argv.insert(argv.end(), options.args.begin(), options.args.end());

  a->pid_ = ::fork();
  if (a->pid_ == 0) {
    const std::string log = a->dir_.file("cmdgated.log");
    const int fd = ::open(log.c_str(), O_CREAT | O_WRONLY | O_APPEND, 0644);
    ::dup2(fd, 2);
    ::setenv("NOTIFY_SOCKET", sock.c_str(), 1);
    for (std::string kv : options.env) {
      if (const size_t at = kv.find("{pid}"); at != std::string::npos) {
        kv.replace(at, 5, std::to_string(::getpid()));
      }
      ::putenv(::strdup(kv.c_str()));
    }
    exec_argv(argv);
  }
  if (options.wait_ready && !a->wait_notify("READY=1", std::chrono::seconds(20))) {
    ADD_FAILURE() << "cmdgated did not become ready:\n" << a->log_text();
    a->stop();
    return nullptr;
  }
  return a;
}

Agent::~Agent() {
  if (pid_ > 0) {
    stop();
  }
}

void Agent::write_rules(const std::string& toml) const {
  const std::string tmp = rules_path() + ".tmp";
  std::ofstream(tmp) << toml;
  std::filesystem::rename(tmp, rules_path());
}

std::optional<std::string> Agent::wait_notify(const std::string& text,
                                              std::chrono::milliseconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  char buf[4096];
  for (;;) {
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
        deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0) {
      return std::nullopt;
    }
    pollfd pfd{notify_.get(), POLLIN, 0};
    if (::poll(&pfd, 1, static_cast<int>(std::min<int64_t>(left.count(), 100))) <= 0) {
      if (pid_ > 0 && ::waitpid(pid_, nullptr, WNOHANG) == pid_) {
        pid_ = -1;
        return std::nullopt;
      }
      continue;
    }
    const ssize_t n = ::recv(notify_.get(), buf, sizeof(buf), 0);
    if (n > 0) {
      std::string msg(buf, static_cast<size_t>(n));
      ready_ = ready_ || msg.find("READY=1") != std::string::npos;
      if (msg.find(text) != std::string::npos) {
        return msg;
      }
    }
  }
}

std::optional<std::string> Agent::next_notify(std::chrono::milliseconds timeout) {
  pollfd pfd{notify_.get(), POLLIN, 0};
  if (::poll(&pfd, 1, static_cast<int>(timeout.count())) <= 0) {
    return std::nullopt;
  }
  char buf[4096];
  const ssize_t n = ::recv(notify_.get(), buf, sizeof(buf), 0);
  if (n <= 0) {
    return std::nullopt;
  }
  std::string msg(buf, static_cast<size_t>(n));
  ready_ = ready_ || msg.find("READY=1") != std::string::npos;
  return msg;
}

std::string Agent::reload() {
  ::kill(pid_, SIGHUP);
  if (!wait_notify("RELOADING=1", std::chrono::seconds(10))) {
    return "no RELOADING=1";
  }
  auto ready = wait_notify("READY=1", std::chrono::seconds(10));
  return ready ? *ready : "no READY=1";
}

std::vector<nlohmann::json> Agent::decisions() const {
  // The daemon may be writing while this reads: like any follower of the file, take only the
  // lines whose newline is there.
  const std::string text = read_file(dir_.file("decisions.jsonl"));
  std::vector<nlohmann::json> out;
  size_t begin = 0;
  for (size_t end = text.find('\n'); end != std::string::npos;
       begin = end + 1, end = text.find('\n', begin)) {
    if (end > begin) {
      out.push_back(nlohmann::json::parse(text.substr(begin, end - begin), nullptr, false));
    }
  }
  return out;
}

std::optional<nlohmann::json> Agent::wait_decision(
    const std::function<bool(const nlohmann::json&)>& pred,
    std::chrono::milliseconds timeout) const {
  std::optional<nlohmann::json> found;
  wait_for(
      [&] {
        for (const auto& d : decisions()) {
          if (!d.is_discarded() && pred(d)) {
            found = d;
            return true;
          }
        }
        return false;
      },
      timeout);
  return found;
}

std::string Agent::log_text() const {
  return read_file(dir_.file("cmdgated.log"));
}

int Agent::stop(std::chrono::milliseconds timeout) {
  if (pid_ <= 0) {
    return -1;
  }
  ::kill(pid_, SIGTERM);
  auto status = wait_status(pid_, timeout);
  if (!status) {
    ::kill(pid_, SIGKILL);
    status = wait_status(pid_, std::chrono::seconds(5));
  }
  pid_ = -1;
  if (owns_pins_ && ready_) {
    EXPECT_EQ(uninstall(pin_dir_, binary_), 0) << "cmdgated --uninstall --pin-dir " << pin_dir_;
    std::error_code ec;
    std::filesystem::remove_all(pin_dir_, ec);
  }
  return status ? *status : -1;
}

bool Agent::alive() {
  if (pid_ <= 0) {
    return false;
  }
  if (::waitpid(pid_, nullptr, WNOHANG) == pid_) {
    pid_ = -1;
    return false;
  }
  return true;
}

void Agent::crash() {
  if (pid_ <= 0) {
    return;
  }
  ::kill(pid_, SIGKILL);
  wait_status(pid_, std::chrono::seconds(5));
  pid_ = -1;
  owns_pins_ = false;  // a successor adopts them, or the test uninstalls them
}

std::string read_pack(const std::string& name) {
  return read_file(std::string(CMDGATE_SOURCE_DIR) + "/rules/" + name);
}

std::string cli_path() {
  return CMDGATE_CLI_PATH;
}

}  // namespace cmdgate::test
