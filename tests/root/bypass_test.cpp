// Red team: routes around a hold that an unprivileged user (or an AI agent running as one) can
// take, against the promises "a denied program never runs, a parked program runs only when a
// person says so". Every attacker here runs as nobody; the test process is root only to start
// the daemon and to approve. A test that fails demonstrates a bypass; see each test's comment.

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <cstring>
#include <iterator>
#include <fstream>
#include <sstream>

#include "harness.h"

namespace cmdgate::test {
namespace {

using nlohmann::json;
using namespace std::chrono_literals;

constexpr uid_t kNobody = 65534;
constexpr const char* kLoader = "/lib64/ld-linux-x86-64.so.2";

std::string bypass() { return CG_BYPASS_PATH; }

// A running helper whose stdout is read line by line.
class Helper {
 public:
  explicit Helper(const std::vector<std::string>& argv) {
    int p[2];
    if (::pipe2(p, O_CLOEXEC) != 0) {
      return;
    }
    pid_ = ::fork();
    if (pid_ == 0) {
      ::dup2(p[1], 1);
      exec_argv(argv);
    }
    ::close(p[1]);
    out_ = p[0];
  }
  ~Helper() {
    if (pid_ > 0) {
      ::kill(pid_, SIGKILL);
      ::waitpid(pid_, nullptr, 0);
    }
    if (out_ >= 0) {
      ::close(out_);
    }
  }
  // The next line, without its newline; nullopt at the end or after the timeout.
  std::optional<std::string> line(std::chrono::milliseconds timeout = 15s) {
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    for (;;) {
      if (auto nl = buf_.find('\n'); nl != std::string::npos) {
        std::string l = buf_.substr(0, nl);
        buf_.erase(0, nl + 1);
        all_ += l + "\n";
        return l;
      }
      const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
          deadline - std::chrono::steady_clock::now());
      pollfd pfd{out_, POLLIN, 0};
      if (left.count() <= 0 || ::poll(&pfd, 1, static_cast<int>(left.count())) <= 0) {
        return std::nullopt;
      }
      char b[4096];
      const ssize_t n = ::read(out_, b, sizeof(b));
      if (n <= 0) {
        return std::nullopt;
      }
      buf_.append(b, static_cast<size_t>(n));
    }
  }
  // Reads every remaining line; then the exit status.
  int finish(std::chrono::milliseconds timeout = 30s) {
    while (line(timeout)) {
    }
    auto st = wait_status(pid_, timeout);
    pid_ = -1;
    return st ? *st : -1;
  }
  const std::string& output() const { return all_; }

 private:
  pid_t pid_ = -1;
  int out_ = -1;
  std::string buf_;
  std::string all_;
};


int parse_pid(const std::string& line, const std::string& word) {
  if (!line.starts_with(word + " ")) {
    return -1;
  }
  return std::atoi(line.c_str() + word.size() + 1);
}

class Bypass : public MarkerTargetTest {
 protected:
  void SetUp() override {
    MarkerTargetTest::SetUp();
    if (HasFatalFailure() || IsSkipped()) {
      return;
    }
    // Where the unprivileged attacker may write: markers, scripts, its own copies.
    drop_ = work_->file("nobody");
    ::mkdir(drop_.c_str(), 0777);
    ::chmod(drop_.c_str(), 0777);
    ASSERT_EQ(::chown(drop_.c_str(), kNobody, kNobody), 0);
  }
  std::string dropped(const std::string& name) const { return drop_ + "/" + name; }
  void write_file(const std::string& path, const std::string& text, mode_t mode = 0755) const {
    {
      std::ofstream(path, std::ios::trunc) << text;
    }
    ::chmod(path.c_str(), mode);
    [[maybe_unused]] int r = ::chown(path.c_str(), kNobody, kNobody);
  }

  std::string drop_;
};

// The kernel continues an orphaned process group itself: SIGHUP then SIGCONT, sent from the
// exiting task (exit_notify). No BPF program can kill from that context (bpf_send_signal_task
// needs the sender's mm, gone by then) and no LSM hook is asked (the signal is the kernel's).
// Any user can arrange it: ignore SIGHUP (ignored signals survive execve), park programs in a
// process group of their own, and let the group's parent exit. A process that ignores SIGHUP is
// therefore never held for a person: its ask is denied at once. (One that does not ignore it
// dies of that SIGHUP.)
TEST_F(Bypass, AnOrphanedProcessGroupCannotContinueAHeldProgram) {
  const std::string fast = work_->file("fast");
  copy_file(CG_FAST_MARKER_PATH, fast);
  auto agent = Agent::start({ask_path_rules(fast)});
  ASSERT_TRUE(agent);
  constexpr int kTargets = 16;
  Helper h({bypass(), "orphan", std::to_string(kNobody), std::to_string(kTargets), "300", fast,
            dropped("orphan")});
  std::vector<int> pids;
  while (pids.size() < kTargets) {
    auto l = h.line();
    ASSERT_TRUE(l) << h.output();
    pids.push_back(parse_pid(*l, "target"));
  }
  h.finish();
  int ran = 0;
  for (int i = 0; i < kTargets; ++i) {
    ran += exists(dropped(fmt::format("orphan.{}", i))) ? 1 : 0;
  }
  EXPECT_EQ(ran, 0) << ran << " of " << kTargets
                    << " held programs ran with nobody's approval\n"
                    << h.output() << agent->log_text();
  for (int pid : pids) {
    auto d = agent->wait_decision([&](const json& j) { return j["tgid"] == pid; });
    ASSERT_TRUE(d) << agent->log_text();
    EXPECT_EQ((*d)["decided_by"], "unsafe_park") << d->dump();
    EXPECT_EQ((*d)["outcome"], "denied");
  }
}

// `ld.so PROGRAM` where PROGRAM does not exist yet, and the attacker renames a denied program
// into place the moment the loader is resumed, before the loader opens it: a path that names
// nothing at the verdict is unknown, not "nothing runs", so a rule that could match any program
// holds the loader.
TEST_F(Bypass, ALoadersProgramThatAppearsAfterTheVerdictIsHeldAsUnknown) {
  const std::string rules = deny_path_rules("/nonexistent/never", fmt::format(R"([[rule]]
id = "no-target-content"
action = "deny"
sha256 = "{}")",
                                                                             sha256_hex(target_)));
  auto agent = Agent::start({rules});
  ASSERT_TRUE(agent);
  // Control: the loader route itself is covered.
  const std::string copy = dropped("copy");
  write_file(copy, "");
  copy_file(target_, copy);
  EXPECT_EQ(run({kLoader, copy, dropped("loaded.direct")}).signal, SIGKILL);
  EXPECT_FALSE(exists(dropped("loaded.direct")));

  constexpr int kTries = 40;
  int ran = 0;
  const std::string later = dropped("later");
  for (int i = 0; i < kTries; ++i) {
    const std::string staged = dropped("staged");
    copy_file(target_, staged);
    [[maybe_unused]] int r = ::chown(staged.c_str(), kNobody, kNobody);
    ::unlink(later.c_str());
    Helper h({bypass(), "swap-on-continue", std::to_string(kNobody), staged, later, kLoader, later,
              dropped(fmt::format("loaded.{}", i))});
    h.finish();
    ran += exists(dropped(fmt::format("loaded.{}", i))) ? 1 : 0;
  }
  EXPECT_EQ(ran, 0) << "the denied program ran through the loader " << ran << " of " << kTries
                    << " times\n"
                    << agent->log_text().substr(0, 4000);
  auto d = agent->wait_decision(
      [&](const json& j) { return j.contains("loaded") && j.contains("uncertain"); });
  ASSERT_TRUE(d) << agent->log_text();
  EXPECT_EQ((*d)["outcome"], "denied");
}

// HELD (coverage the suite lacked): other ways to exec a denied program's bytes. Each route is
// run by nobody against a path rule and a sha256 rule, and each dies before its first
// instruction; the helper's control (no daemon) runs all of them.
TEST_F(Bypass, OtherRoutesToExecADeniedProgramAreCaught) {
  auto agent = Agent::start({deny_path_rules(target_, fmt::format(R"([[rule]]
id = "deny-content"
action = "deny"
sha256 = "{}")",
                                                                   sha256_hex(target_)))});
  ASSERT_TRUE(agent);
  const RunResult r = run({bypass(), "routes", std::to_string(kNobody), drop_, target_});
  std::istringstream lines(r.out);
  std::string route;
  int status = 0;
  int seen = 0;
  while (lines >> route >> status) {
    ++seen;
    EXPECT_EQ(status, 128 + SIGKILL) << route;
    EXPECT_FALSE(exists(dropped(route + ".marker"))) << route << " ran";
  }
  EXPECT_EQ(seen, 7) << r.out;
}

}  // namespace
}  // namespace cmdgate::test
