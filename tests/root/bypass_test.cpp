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
std::string cli() { return CMDGATE_CLI_PATH; }

std::string ask_rules(const std::string& path) {
  return fmt::format(R"(
default_action = "allow"
[[rule]]
id = "ask-target"
action = "ask"
path = "{}"
timeout = "60s"
)",
                     path);
}

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

// A copy of the loader the kernel takes for a plain static executable: e_type ET_EXEC and its
// PT_LOAD segments (only those: ld.so reads the others relative to where it finds itself) moved up
// 4 MiB. ld.so is position independent, so it runs there as before.
bool write_patched_loader(const std::string& from, const std::string& to) {
  std::ifstream in(from, std::ios::binary);
  std::string d((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  if (d.size() < 64 || d.compare(0, 4, "\x7f" "ELF") != 0) {
    return false;
  }
  auto get = [&](size_t at, auto v) {
    std::memcpy(&v, d.data() + at, sizeof(v));
    return v;
  };
  auto put = [&](size_t at, auto v) { std::memcpy(d.data() + at, &v, sizeof(v)); };
  constexpr uint64_t kBias = 0x400000;
  put(16, uint16_t{2});  // ET_EXEC
  put(24, get(24, uint64_t{}) + kBias);
  const uint64_t phoff = get(32, uint64_t{});
  const uint16_t phnum = get(56, uint16_t{});
  for (uint16_t i = 0; i < phnum; ++i) {
    const size_t ph = phoff + 56u * i;
    if (get(ph, uint32_t{}) == 1) {  // PT_LOAD
      put(ph + 16, get(ph + 16, uint64_t{}) + kBias);
      put(ph + 24, get(ph + 24, uint64_t{}) + kBias);
    }
  }
  std::ofstream(to, std::ios::binary | std::ios::trunc) << d;
  return ::chmod(to.c_str(), 0755) == 0;
}

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

// BYPASS (tracepoint path; LSM path too, see tests/vm): the kernel continues an orphaned process
// group itself: exit_notify() of the group's last outside parent sends every member SIGHUP and
// SIGCONT. The escape guard sees the wakeup, but its bpf_send_signal_task() runs in the context of
// that exiting task (PF_EXITING, its mm already gone) and fails with EPERM: "the kernel could not
// kill it". The program runs until the daemon's user-space kill lands, a fraction of a
// millisecond later, and a program whose first instructions act (cg_fast_marker) acts. On the
// LSM path task_kill is never asked: the signal is not from user space. Any user can arrange it:
// ignore SIGHUP (ignored signals survive execve), park programs in a process group of their own,
// and let the group's parent exit. The parked programs waited for a person; none answered.
TEST_F(Bypass, AnOrphanedProcessGroupContinuesItsParkedProgramsAtOnce) {
  const std::string fast = work_->file("fast");
  copy_file(CG_FAST_MARKER_PATH, fast);
  auto agent = Agent::start({ask_rules(fast)});
  ASSERT_TRUE(agent);
  constexpr int kTargets = 16;
  Helper h({bypass(), "orphan", std::to_string(kNobody), std::to_string(kTargets), "1000", fast,
            dropped("orphan")});
  std::vector<int> pids;
  while (pids.size() < kTargets) {
    auto l = h.line();
    ASSERT_TRUE(l) << h.output();
    pids.push_back(parse_pid(*l, "target"));
  }
  for (int pid : pids) {
    EXPECT_TRUE(agent->wait_decision(
        [&](const json& j) { return j["tgid"] == pid && j["outcome"] == "parked"; }))
        << "pid " << pid << " was not parked\n"
        << agent->log_text();
  }
  h.finish();
  int ran = 0;
  for (int i = 0; i < kTargets; ++i) {
    ran += exists(dropped(fmt::format("orphan.{}", i))) ? 1 : 0;
  }
  EXPECT_EQ(ran, 0) << ran << " of " << kTargets
                    << " parked programs ran with nobody's approval\n"
                    << h.output() << agent->log_text();
  EXPECT_EQ(agent->log_text().find("the kernel could not kill it"), std::string::npos)
      << agent->log_text();
}

// BYPASS (all paths): the kernel records argv at exec, the daemon decides on that copy, and the
// process keeps its own argv pages, which its owner may rewrite through /proc/PID/mem while it
// is parked (any same-uid process may without Yama; the tracepoint path guards only wakeups,
// not memory). A person approves `target GOOD`; `target EVIL` runs.
TEST_F(Bypass, TheArgvAPersonApprovedIsNotTheArgvThatRuns) {
  auto agent = Agent::start({ask_rules(target_)});
  ASSERT_TRUE(agent);
  const std::string good = dropped("GOOD-approved");
  const std::string evil = dropped("EVIL-approved");
  Helper h({bypass(), "argv-swap", std::to_string(kNobody), "GOOD", "EVIL", target_, good});
  auto first = h.line();
  ASSERT_TRUE(first) << h.output();
  const int pid = parse_pid(*first, "target");
  auto parked = agent->wait_decision(
      [&](const json& j) { return j["tgid"] == pid && j["outcome"] == "parked"; });
  ASSERT_TRUE(parked) << agent->log_text();
  ASSERT_EQ(h.line(), "rewrote") << h.output();
  const RunResult pending = run({cli(), "pending", "--json", "--socket", agent->socket_path()});
  auto listed = json::parse(pending.out, nullptr, false);
  ASSERT_TRUE(listed.is_array() && listed.size() == 1) << pending.out;
  ASSERT_EQ(listed[0]["argv"], json::array({target_, good})) << "what the person is shown";
  const std::string id = std::to_string(listed[0]["id"].get<uint64_t>());
  ASSERT_EQ(run({cli(), "approve", id, "--socket", agent->socket_path()}).code, 0);
  EXPECT_EQ(h.finish(), 0);
  EXPECT_FALSE(exists(evil)) << "the approved program ran with an argv nobody approved";
}

// BYPASS (all paths, a race the attacker wins nearly always): the same rewrite against an args
// rule. The daemon judges the recorded `target GOOD` (allowed) while the process's argv already
// says EVIL, which the rule denies.
TEST_F(Bypass, ADeniedCommandLineRunsWhenItsArgvIsRewrittenWhileParked) {
  const std::string rules = fmt::format(R"(
default_action = "allow"
[[rule]]
id = "no-evil"
action = "deny"
path = "{}"
args = "EVIL"
)",
                                        target_);
  auto agent = Agent::start({rules});
  ASSERT_TRUE(agent);
  int ran = 0;
  int rewrote = 0;
  constexpr int kTries = 10;
  for (int i = 0; i < kTries; ++i) {
    const std::string good = dropped(fmt::format("GOOD-{}", i));
    Helper h({bypass(), "argv-swap", std::to_string(kNobody), "GOOD", "EVIL", target_, good});
    h.finish();
    rewrote += h.output().find("rewrote") != std::string::npos ? 1 : 0;
    ran += exists(dropped(fmt::format("EVIL-{}", i))) ? 1 : 0;
  }
  EXPECT_EQ(ran, 0) << "`target EVIL` ran " << ran << " of " << kTries << " times (" << rewrote
                    << " rewrites landed while parked)";
  // Control: the rule does deny the command line when it is given at exec.
  const RunResult direct = run({target_, dropped("EVIL-direct")});
  EXPECT_EQ(direct.signal, SIGKILL);
}

// BYPASS (known TOCTOU, quantified): a script is judged by the file the kernel opened, then its
// interpreter opens it again by name once resumed. The parent learns of the resume at once
// (waitid WCONTINUED) and renames a denied script over the name before dash reads it.
TEST_F(Bypass, AScriptSwappedWhenItsVerdictResumesItRunsDeniedContent) {
  const std::string run_path = dropped("run.sh");
  const std::string evil_text = fmt::format("#!/bin/sh\n: > {}/evil.$1\n", drop_);
  const std::string evil_ref = work_->file("evil-reference.sh");
  write_file(evil_ref, evil_text);
  const std::string rules = deny_path_rules("/nonexistent/never", fmt::format(R"([[rule]]
id = "no-evil-script"
action = "deny"
sha256 = "{}")",
                                                                             sha256_hex(evil_ref)));
  auto agent = Agent::start({rules});
  ASSERT_TRUE(agent);
  // Control: the denied content never runs when executed directly.
  write_file(dropped("evil-direct.sh"), evil_text);
  const RunResult direct = run({dropped("evil-direct.sh"), "direct"});
  EXPECT_EQ(direct.signal, SIGKILL);
  EXPECT_FALSE(exists(dropped("evil.direct")));

  constexpr int kTries = 40;
  int ran = 0;
  for (int i = 0; i < kTries; ++i) {
    write_file(run_path, fmt::format("#!/bin/sh\n: > {}/good.$1\n", drop_));
    write_file(dropped("evil.sh"), evil_text);
    Helper h({bypass(), "swap-on-continue", std::to_string(kNobody), dropped("evil.sh"), run_path,
              run_path, std::to_string(i)});
    h.finish();
    ran += exists(dropped(fmt::format("evil.{}", i))) ? 1 : 0;
  }
  EXPECT_EQ(ran, 0) << "denied script content ran " << ran << " of " << kTries << " times";
}

// BYPASS (known TOCTOU, quantified, with a twist): `ld.so PROGRAM` where PROGRAM does not exist
// yet. The daemon concludes "does not exist: nothing ran" and judges nothing but the loader;
// the attacker renames the denied program into place when the loader is resumed, before the
// loader opens it.
TEST_F(Bypass, ALoadersProgramThatAppearsAfterTheVerdictRuns) {
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
}

// BYPASS (loader heuristic): the kernel flags `ld.so PROGRAM` only for an ET_DYN image started at
// its own entry. A copy of ld.so with e_type patched to ET_EXEC and its PT_LOAD segments moved up
// (20 bytes changed, no code) still maps and runs any program it is given, and the daemon never
// looks at argv[1]. The same holds for any program the user may build and run that maps another
// file and jumps into it (a userland exec): exec control cannot see code loaded without execve.
TEST_F(Bypass, APatchedCopyOfTheLoaderRunsADeniedProgram) {
  auto agent = Agent::start({deny_path_rules(target_)});
  ASSERT_TRUE(agent);
  const std::string patched = dropped("myld");
  ASSERT_TRUE(write_patched_loader(kLoader, patched));
  // Control: the stock loader and a plain copy are caught.
  EXPECT_EQ(run({kLoader, target_, dropped("stock")}).signal, SIGKILL);
  EXPECT_FALSE(exists(dropped("stock")));
  const RunResult r = run({patched, target_, dropped("patched"), "hello"});
  EXPECT_EQ(r.signal, SIGKILL) << "exit " << r.code << ", output: " << r.out;
  EXPECT_FALSE(exists(dropped("patched"))) << "the denied program ran";
}

// BYPASS (approval scopes): a `similar` grant is keyed on (uid, file identity, argv) and nothing
// about the file's content. After a person allows `target ARGS` for N minutes (seeing its
// SHA-256 in the request), its owner rewrites the file in place (same inode, other bytes) and
// the new program runs under the grant without asking. (`permanent` is wider still: it writes an
// allow rule by path, which follows any new file at that path.)
TEST_F(Bypass, ASimilarGrantCoversContentThePersonNeverSaw) {
  ASSERT_EQ(::chown(target_.c_str(), kNobody, kNobody), 0);  // the user's own tool
  auto agent = Agent::start({ask_rules(target_)});
  ASSERT_TRUE(agent);
  const std::string mark = dropped("granted");
  Helper first({bypass(), "run", std::to_string(kNobody), target_, mark});
  auto l = first.line();
  ASSERT_TRUE(l);
  const int pid = parse_pid(*l, "target");
  ASSERT_TRUE(agent->wait_decision(
      [&](const json& j) { return j["tgid"] == pid && j["outcome"] == "parked"; }))
      << agent->log_text();
  const RunResult pending = run({cli(), "pending", "--json", "--socket", agent->socket_path()});
  auto listed = json::parse(pending.out, nullptr, false);
  ASSERT_TRUE(listed.is_array() && listed.size() == 1) << pending.out;
  const std::string id = std::to_string(listed[0]["id"].get<uint64_t>());
  ASSERT_EQ(run({cli(), "approve", id, "--scope", "similar", "--minutes", "5", "--socket",
                 agent->socket_path()})
                .code,
            0);
  EXPECT_EQ(first.finish(), 0);
  ASSERT_TRUE(exists(mark));
  ::unlink(mark.c_str());
  const std::string approved_sha = sha256_hex(target_);

  // In place, as its owner: same inode, other bytes.
  {
    std::ifstream in(marker_path(), std::ios::binary);
    std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    bytes += "\nnot what the person approved\n";
    std::ofstream out(target_, std::ios::binary | std::ios::in | std::ios::out | std::ios::trunc);
    out << bytes;
  }
  ASSERT_NE(sha256_hex(target_), approved_sha);
  Helper again({bypass(), "run", std::to_string(kNobody), target_, mark});
  auto l2 = again.line();
  ASSERT_TRUE(l2);
  const int pid2 = parse_pid(*l2, "target");
  auto d = agent->wait_decision([&](const json& j) { return j["tgid"] == pid2; });
  ASSERT_TRUE(d) << agent->log_text();
  EXPECT_EQ((*d)["outcome"], "parked") << "other content ran under the grant: " << d->dump();
  ::kill(pid2, SIGKILL);
  again.finish();
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

// BYPASS (deterministic with ask): a script is held while a person decides, but it is a file its
// owner may rewrite meanwhile; the interpreter reads it only once resumed. The person approves
// the script they were shown; other content runs. (For an ELF the kernel holds the image itself.)
TEST_F(Bypass, AnAskedScriptRewrittenWhileParkedRunsOtherContent) {
  const std::string script = dropped("deploy.sh");
  write_file(script, fmt::format("#!/bin/sh\n: > {}/approved-content\n", drop_));
  auto agent = Agent::start({ask_rules(script)});
  ASSERT_TRUE(agent);
  Helper h({bypass(), "run", std::to_string(kNobody), script});
  auto l = h.line();
  ASSERT_TRUE(l);
  const int pid = parse_pid(*l, "target");
  ASSERT_TRUE(agent->wait_decision(
      [&](const json& j) { return j["tgid"] == pid && j["outcome"] == "parked"; }))
      << agent->log_text();
  // Its owner (nobody) rewrites it in place while it waits.
  ASSERT_EQ(run({bypass(), "run", std::to_string(kNobody), "/bin/sh", "-c",
                 fmt::format("printf '#!/bin/sh\\n: > {}/other-content\\n' > {}", drop_, script)})
                .code,
            0);
  const RunResult pending = run({cli(), "pending", "--json", "--socket", agent->socket_path()});
  auto listed = json::parse(pending.out, nullptr, false);
  ASSERT_TRUE(listed.is_array() && listed.size() == 1) << pending.out;
  ASSERT_EQ(run({cli(), "approve", std::to_string(listed[0]["id"].get<uint64_t>()), "--socket",
                 agent->socket_path()})
                .code,
            0);
  h.finish();
  EXPECT_FALSE(exists(dropped("other-content")))
      << "content written after the request was shown ran on its approval";
}

}  // namespace
}  // namespace cmdgate::test
