#include "approval_kit.h"

#include <fcntl.h>
#include <grp.h>
#include <poll.h>
#include <pty.h>
#include <pwd.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cctype>
#include <filesystem>
#include <fstream>
#include <random>
#include <thread>

namespace cmdgate::test {
namespace {

using nlohmann::json;
using namespace std::chrono_literals;

constexpr std::string_view kUserPrefix = "cgauth";
constexpr const char* kPamFile = "/etc/pam.d/cmdgate";

// Becomes `who` (a forked child only); _exit(126) when it cannot.
void become(const Identity& who) {
  if (who.name.empty()) {
    return;
  }
  if (::initgroups(who.name.c_str(), who.gid) != 0 || ::setgid(who.gid) != 0 ||
      ::setuid(who.uid) != 0) {
    ::_exit(126);
  }
}

// Runs argv with `input` on its stdin; its exit status.
int run_with_input(const std::vector<std::string>& argv, const std::string& input) {
  int in[2];
  if (::pipe2(in, O_CLOEXEC) != 0) {
    return -1;
  }
  const pid_t pid = ::fork();
  if (pid == 0) {
    ::dup2(in[0], 0);
    const int null = ::open("/dev/null", O_WRONLY);
    ::dup2(null, 1);
    exec_argv(argv);
  }
  ::close(in[0]);
  [[maybe_unused]] ssize_t n = ::write(in[1], input.data(), input.size());
  ::close(in[1]);
  int status = 0;
  ::waitpid(pid, &status, 0);
  return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

std::optional<Identity> lookup(const std::string& name) {
  passwd pw{};
  passwd* found = nullptr;
  char buf[4096];
  if (::getpwnam_r(name.c_str(), &pw, buf, sizeof(buf), &found) != 0 || found == nullptr) {
    return std::nullopt;
  }
  return Identity{name, pw.pw_uid, pw.pw_gid};
}

// Accounts of test runs that were killed before they could remove them: "cgauth<pid>" where no
// process <pid> runs.
void sweep_stale_users() {
  std::ifstream passwd("/etc/passwd");
  std::string line;
  std::vector<std::string> stale;
  while (std::getline(passwd, line)) {
    const std::string name = line.substr(0, line.find(':'));
    if (!name.starts_with(kUserPrefix)) {
      continue;
    }
    const std::string pid = name.substr(kUserPrefix.size());
    if (!pid.empty() && std::all_of(pid.begin(), pid.end(), ::isdigit) &&
        !exists("/proc/" + pid)) {
      stale.push_back(name);
    }
  }
  for (const auto& name : stale) {
    run({"/usr/sbin/userdel", name});
    run({"/usr/sbin/groupdel", "cgapv" + name.substr(kUserPrefix.size())});
  }
}

}  // namespace

std::optional<std::string> missing_auth_prerequisite() {
  for (const char* tool : {"/usr/sbin/useradd", "/usr/sbin/userdel", "/usr/sbin/usermod",
                           "/usr/sbin/groupadd", "/usr/sbin/groupdel", "/usr/sbin/chpasswd"}) {
    if (::access(tool, X_OK) != 0) {
      return std::string("needs ") + tool + " (package passwd)";
    }
  }
  bool pam_unix = false;
  for (const char* dir : {"/lib/x86_64-linux-gnu/security", "/usr/lib/x86_64-linux-gnu/security",
                          "/lib/security", "/usr/lib/security", "/lib64/security"}) {
    pam_unix = pam_unix || exists(std::string(dir) + "/pam_unix.so");
  }
  if (!pam_unix) {
    return "needs pam_unix.so (package libpam-modules)";
  }
  for (const char* stack : {"/etc/pam.d/common-auth", "/etc/pam.d/common-account"}) {
    if (!exists(stack)) {
      return std::string("needs ") + stack + ", which /etc/pam.d/cmdgate includes";
    }
  }
  return std::nullopt;
}


json pending(const Agent& agent) {
  const RunResult r = run({cli_path(), "pending", "--json", "--socket", agent.socket_path()});
  EXPECT_EQ(r.code, 0) << r.out;
  return json::parse(r.out, nullptr, false);
}

std::optional<uint64_t> wait_pending(const Agent& agent, pid_t pid) {
  std::optional<uint64_t> id;
  wait_for(
      [&] {
        for (const auto& r : pending(agent)) {
          if (r["pid"] == pid) {
            id = r["id"].get<uint64_t>();
            return true;
          }
        }
        return false;
      },
      10s);
  return id;
}

int64_t counter(const Agent& agent, const std::string& name) {
  const RunResult r = run({cli_path(), "status", "--json", "--socket", agent.socket_path()});
  const json st = json::parse(r.out, nullptr, false);
  if (st.is_discarded() || !st["counters"].contains(name)) {
    return -1;
  }
  return st["counters"][name].get<int64_t>();
}

Requester spawn_requester(const std::vector<std::string>& argv, const std::string& cwd,
                          const Identity& who) {
  int pids[2];
  if (::pipe(pids) != 0) {
    return {};
  }
  const pid_t shim = ::fork();
  if (shim == 0) {
    ::close(pids[0]);
    ::setsid();
    const int null = ::open("/dev/null", O_RDWR);
    ::dup2(null, 0);
    ::dup2(null, 1);
    ::dup2(null, 2);
    become(who);
    if (::chdir(cwd.c_str()) != 0) {
      ::_exit(126);
    }
    const pid_t target = ::fork();
    if (target == 0) {
      exec_argv(argv);
    }
    [[maybe_unused]] ssize_t w = ::write(pids[1], &target, sizeof(target));
    int status = 0;
    ::waitpid(target, &status, 0);
    if (WIFSIGNALED(status)) {
      ::signal(WTERMSIG(status), SIG_DFL);
      ::kill(::getpid(), WTERMSIG(status));
    }
    ::_exit(WIFEXITED(status) ? WEXITSTATUS(status) : 125);
  }
  ::close(pids[1]);
  Requester r{shim, -1};
  [[maybe_unused]] ssize_t n = ::read(pids[0], &r.target, sizeof(r.target));
  ::close(pids[0]);
  return r;
}

std::unique_ptr<TestUser> TestUser::create() {
  static const bool swept = (sweep_stale_users(), true);
  (void)swept;
  std::unique_ptr<TestUser> u(new TestUser());
  const std::string pid = std::to_string(::getpid());
  const std::string name = std::string(kUserPrefix) + pid;
  u->group_ = "cgapv" + pid;
  std::random_device rd;
  u->password_ = fmt::format("Cg-{:08x}{:08x}", rd(), rd());
  if (run({"/usr/sbin/groupadd", u->group_}).code != 0 ||
      run({"/usr/sbin/useradd", "--no-create-home", "--shell", "/bin/sh", "--groups", u->group_,
           name})
              .code != 0 ||
      run_with_input({"/usr/sbin/chpasswd"}, name + ":" + u->password_ + "\n") != 0) {
    ADD_FAILURE() << "cannot create the test account " << name;
    u->id_.name = name;
    return nullptr;
  }
  auto id = lookup(name);
  if (!id) {
    ADD_FAILURE() << "the test account " << name << " is not in the user database";
    return nullptr;
  }
  u->id_ = *id;
  return u;
}

TestUser::~TestUser() {
  if (!id_.name.empty()) {
    EXPECT_EQ(run({"/usr/sbin/userdel", id_.name}).code, 0) << "userdel " << id_.name;
  }
  if (!group_.empty()) {
    run({"/usr/sbin/groupdel", group_});
  }
}

PamService::PamService() {
  if (exists(kPamFile)) {
    return;
  }
  copy_file(std::string(CMDGATE_SOURCE_DIR) + "/packaging/pam.d/cmdgate", kPamFile, 0644);
  installed_ = true;
}

PamService::~PamService() {
  if (installed_) {
    std::filesystem::remove(kPamFile);
  }
}

OnTerminal::OnTerminal(const std::vector<std::string>& argv, const Identity& who) {
  int master = -1;
  pid_ = ::forkpty(&master, nullptr, nullptr, nullptr);
  if (pid_ == 0) {
    become(who);
    exec_argv(argv);
  }
  master_.reset(master);
}

OnTerminal::~OnTerminal() {
  if (pid_ > 0 && !wait(1s)) {
    ::kill(pid_, SIGKILL);
    ::waitpid(pid_, nullptr, 0);
  }
}

void OnTerminal::read_some(int timeout_ms) {
  pollfd p{master_.get(), POLLIN, 0};
  if (::poll(&p, 1, timeout_ms) <= 0) {
    return;
  }
  char buf[4096];
  const ssize_t n = ::read(master_.get(), buf, sizeof(buf));
  if (n > 0) {
    shown_.append(buf, static_cast<size_t>(n));
  }
}

bool OnTerminal::read_until(const std::string& text, size_t count,
                            std::chrono::milliseconds timeout) {
  return wait_for(
      [&] {
        read_some(10);
        size_t found = 0;
        for (size_t at = shown_.find(text); at != std::string::npos;
             at = shown_.find(text, at + 1)) {
          ++found;
        }
        return found >= count;
      },
      timeout);
}

bool OnTerminal::type(const std::string& line) {
  const std::string l = line + "\n";
  return ::write(master_.get(), l.data(), l.size()) == static_cast<ssize_t>(l.size());
}

std::optional<int> OnTerminal::wait(std::chrono::milliseconds timeout) {
  if (pid_ <= 0) {
    return std::nullopt;
  }
  std::optional<int> status;
  wait_for(
      [&] {
        read_some(10);
        int st = 0;
        if (::waitpid(pid_, &st, WNOHANG) == pid_) {
          status = st;
        }
        return status.has_value();
      },
      timeout);
  if (status) {
    read_some(50);
    pid_ = -1;
  }
  return status;
}

DetachedHelper::DetachedHelper(const Identity& who) {
  int commands[2];
  int out[2];
  if (::pipe2(commands, O_CLOEXEC) != 0 || ::pipe2(out, O_CLOEXEC) != 0) {
    return;
  }
  pid_ = ::fork();
  if (pid_ == 0) {
    ::close(commands[1]);
    ::close(out[0]);
    ::setsid();  // no controlling terminal from here on
    const int null = ::open("/dev/null", O_RDONLY);
    ::dup2(null, 0);
    ::dup2(out[1], 1);
    ::dup2(out[1], 2);
    become(who);
    // Length first: processes forked meanwhile hold the pipe's write end, so EOF may never come.
    uint32_t size = 0;
    if (::read(commands[0], &size, sizeof(size)) != sizeof(size)) {
      ::_exit(0);
    }
    std::string text;
    char buf[4096];
    while (text.size() < size) {
      const ssize_t n = ::read(commands[0], buf, std::min<size_t>(sizeof(buf), size - text.size()));
      if (n <= 0) {
        ::_exit(125);
      }
      text.append(buf, static_cast<size_t>(n));
    }
    std::vector<std::string> argv;
    for (size_t start = 0, end; (end = text.find('\0', start)) != std::string::npos;
         start = end + 1) {
      argv.push_back(text.substr(start, end - start));
    }
    if (argv.empty()) {
      ::_exit(0);
    }
    exec_argv(argv);
  }
  ::close(commands[0]);
  ::close(out[1]);
  commands_.reset(commands[1]);
  out_.reset(out[0]);
  ::fcntl(out_.get(), F_SETFL, O_NONBLOCK);
}

DetachedHelper::~DetachedHelper() {
  if (commands_) {
    run({});
  }
  if (pid_ > 0 && !wait(5s)) {
    ::kill(pid_, SIGKILL);
    ::waitpid(pid_, nullptr, 0);
  }
}

void DetachedHelper::run(const std::vector<std::string>& argv) {
  std::string text;
  for (const auto& a : argv) {
    text += a;
    text.push_back('\0');
  }
  const auto size = static_cast<uint32_t>(text.size());
  text.insert(0, reinterpret_cast<const char*>(&size), sizeof(size));
  [[maybe_unused]] ssize_t n = ::write(commands_.get(), text.data(), text.size());
  commands_.reset();
}

std::optional<int> DetachedHelper::wait(std::chrono::milliseconds timeout) {
  if (pid_ <= 0) {
    return std::nullopt;
  }
  std::optional<int> status;
  wait_for(
      [&] {
        pollfd p{out_.get(), POLLIN, 0};
        char buf[4096];
        if (::poll(&p, 1, 10) > 0) {
          const ssize_t n = ::read(out_.get(), buf, sizeof(buf));
          if (n > 0) {
            output_.append(buf, static_cast<size_t>(n));
          }
        }
        int st = 0;
        if (::waitpid(pid_, &st, WNOHANG) == pid_) {
          status = st;
        }
        return status.has_value();
      },
      timeout);
  if (status) {
    char buf[4096];
    for (ssize_t n; (n = ::read(out_.get(), buf, sizeof(buf))) > 0;) {
      output_.append(buf, static_cast<size_t>(n));
    }
    pid_ = -1;
  }
  return status;
}

}  // namespace cmdgate::test
