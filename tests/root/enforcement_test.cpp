// The enforcement core end to end: real cmdgated, real BPF, real execs.

#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <bpf/bpf.h>

#include <algorithm>
#include <cstring>
#include <filesystem>
#include <optional>
#include <set>
#include <thread>

#include "common/dev_encoding.h"
#include "harness.h"
#include "shared/cmdgate_abi.h"

namespace cmdgate::test {
namespace {

using nlohmann::json;
using namespace std::chrono_literals;

class Enforcement : public MarkerTargetTest {};

TEST_F(Enforcement, DeniedProgramDiesBeforeItsFirstInstruction) {
  auto agent = Agent::start({deny_path_rules(target_)});
  ASSERT_TRUE(agent);
  const RunResult r = run({target_, marker("denied"), "hello"});
  EXPECT_FALSE(r.exited);
  EXPECT_EQ(r.signal, SIGKILL);
  EXPECT_EQ(r.out, "");
  EXPECT_FALSE(exists(marker("denied")));
  auto d = agent->wait_decision([&](const json& j) { return j["exe"] == target_; });
  ASSERT_TRUE(d) << agent->log_text();
  EXPECT_EQ((*d)["rule"], "deny-target");
  EXPECT_EQ((*d)["outcome"], "killed");
  EXPECT_EQ((*d)["decided_by"], "kernel");
  EXPECT_EQ((*d)["kernel_verdict"], "deny");
}

// The process fields of a record are read in the kernel at exec: a child in a session of its
// own, as nobody, with a login uid of its own, once without a terminal and once with a pty as its
// controlling terminal. The child is killed and reaped before the daemon writes the line (the
// kernel's denials wait for its next tick), so nothing of it is left in /proc to read then.
TEST_F(Enforcement, TheRecordNamesTheProcessAsTheKernelSawIt) {
  auto agent = Agent::start({deny_path_rules(target_)});
  ASSERT_TRUE(agent);
  const int pty = ::posix_openpt(O_RDWR | O_NOCTTY);
  ASSERT_GE(pty, 0);
  ASSERT_EQ(::grantpt(pty), 0);
  ASSERT_EQ(::unlockpt(pty), 0);
  const std::string pts = ::ptsname(pty);
  constexpr uid_t kNobody = 65534;
  constexpr uid_t kLoginUid = 4242;
  for (const bool with_tty : {false, true}) {
    const std::string name = with_tty ? "with-tty" : "without-tty";
    const pid_t child = ::fork();
    ASSERT_GE(child, 0);
    if (child == 0) {
      // The first terminal a session leader opens becomes its controlling terminal.
      if (::setsid() < 0 || (with_tty && ::open(pts.c_str(), O_RDWR) < 0)) {
        ::_exit(126);
      }
      // Setting it gives the process a new audit session too.
      const std::string login = std::to_string(kLoginUid);
      const int fd = ::open("/proc/self/loginuid", O_WRONLY);
      if (fd < 0 || ::write(fd, login.data(), login.size()) != static_cast<ssize_t>(login.size())) {
        ::_exit(125);
      }
      ::close(fd);
      if (::setgid(kNobody) != 0 || ::setuid(kNobody) != 0) {
        ::_exit(126);
      }
      exec_argv({target_, marker(name)});
    }
    int status = 0;
    ASSERT_EQ(::waitpid(child, &status, 0), child);
    ASSERT_FALSE(WIFEXITED(status) && WEXITSTATUS(status) == 125)
        << "could not set the child's /proc/self/loginuid (audit login uids immutable here?)";
    ASSERT_TRUE(WIFSIGNALED(status)) << name << ": status " << status;
    EXPECT_FALSE(exists(marker(name)));
    auto d = agent->wait_decision([&](const json& j) { return j["tgid"] == child; });
    ASSERT_TRUE(d) << agent->log_text();
    EXPECT_EQ((*d)["pid"], child);
    EXPECT_EQ((*d)["ppid"], ::getpid());
    EXPECT_EQ((*d)["sid"], child) << "a session leader's session is its own pid";
    EXPECT_EQ((*d)["uid"], kNobody);
    EXPECT_EQ((*d)["euid"], kNobody);
    EXPECT_EQ((*d)["gid"], kNobody);
    EXPECT_EQ((*d)["comm"], "target");
    EXPECT_EQ((*d)["loginuid"], kLoginUid);
    EXPECT_TRUE(d->contains("sessionid")) << d->dump();
    const std::string flags = (*d)["flags"].dump();
    EXPECT_EQ(flags.find("\"tty\"") != std::string::npos, with_tty) << name << ": " << flags;
  }
  ::close(pty);
}

TEST_F(Enforcement, AllowedProgramKeepsOutputAndExitStatus) {
  auto agent = Agent::start({deny_path_rules("/nonexistent/never")});
  ASSERT_TRUE(agent);
  const RunResult r = run({target_, marker("allowed"), "hello world", "7"});
  EXPECT_TRUE(r.exited);
  EXPECT_EQ(r.code, 7);
  EXPECT_EQ(r.out, "hello world\n");
  EXPECT_TRUE(exists(marker("allowed")));
}

TEST_F(Enforcement, EvaluatedExecIsReleasedOrKilledByTheDaemon) {
  const std::string rules = fmt::format(R"(
default_action = "allow"
[[rule]]
id = "no-bad-flag"
action = "deny"
path = "{}"
args = "^--bad$"
)",
                                        target_);
  auto agent = Agent::start({rules});
  ASSERT_TRUE(agent);

  const RunResult ok = run({target_, marker("good"), "--good", "3"});
  EXPECT_TRUE(ok.exited);
  EXPECT_EQ(ok.code, 3);
  EXPECT_EQ(ok.out, "--good\n");
  EXPECT_TRUE(exists(marker("good")));

  const RunResult bad = run({target_, marker("bad"), "--bad"});
  EXPECT_EQ(bad.signal, SIGKILL);
  EXPECT_FALSE(exists(marker("bad")));

  auto allowed = agent->wait_decision(
      [&](const json& j) { return j["exe"] == target_ && j["outcome"] == "allowed"; });
  ASSERT_TRUE(allowed) << agent->log_text();
  EXPECT_EQ((*allowed)["decided_by"], "daemon");
  EXPECT_EQ((*allowed)["kernel_verdict"], "evaluate");
  auto denied = agent->wait_decision(
      [&](const json& j) { return j["exe"] == target_ && j["outcome"] == "denied"; });
  ASSERT_TRUE(denied);
  EXPECT_EQ((*denied)["rule"], "no-bad-flag");
  EXPECT_EQ((*denied)["argv"], json::array({target_, marker("bad"), "--bad"}));
}

TEST_F(Enforcement, HardLinkSymlinkAndHashedCopyAreDenied) {
  const std::string link = work_->file("hardlink");
  const std::string sym = work_->file("symlink");
  const std::string copy = work_->file("copy");
  ASSERT_EQ(::link(target_.c_str(), link.c_str()), 0);
  ASSERT_EQ(::symlink(target_.c_str(), sym.c_str()), 0);
  copy_file(target_, copy);
  const std::string rules = deny_path_rules(target_, fmt::format(R"([[rule]]
id = "deny-content"
action = "deny"
sha256 = "{}")",
                                                                 sha256_hex(target_)));
  auto agent = Agent::start({rules});
  ASSERT_TRUE(agent);
  for (const auto& [path, rule] : std::vector<std::pair<std::string, std::string>>{
           {link, "deny-target"}, {sym, "deny-target"}, {copy, "deny-content"}}) {
    SCOPED_TRACE(path);
    const std::string m = path + ".marker";
    const RunResult r = run({path, m});
    EXPECT_EQ(r.signal, SIGKILL);
    EXPECT_FALSE(exists(m));
  }
  auto d = agent->wait_decision(
      [&](const json& j) { return j["exe"] == copy && j["outcome"] == "denied"; });
  ASSERT_TRUE(d) << agent->log_text();
  EXPECT_EQ((*d)["rule"], "deny-content");
}

// What the daemon judged is learned by the kernel for that file version, also after the daemon
// read the file (hashing it stats it, which on kernels with multigrain timestamps flags the
// inode's ctime): the repeats of an exec stay in the kernel.
TEST_F(Enforcement, AFileTheDaemonHashedIsLearnedAndItsRepeatsStayInTheKernel) {
  const std::string other = work_->file("other");
  copy_file(target_, other);
  // Any sha256 rule makes every file the kernel does not know the daemon's to hash.
  const std::string rules = deny_path_rules(target_, fmt::format(R"([[rule]]
id = "deny-content"
action = "deny"
sha256 = "{}")",
                                                                 std::string(64, '0')));
  auto agent = Agent::start({rules});
  ASSERT_TRUE(agent);
  for (const char* name : {"first", "second", "third"}) {
    const RunResult r = run({other, marker(name)});
    EXPECT_TRUE(r.exited && r.code == 0) << name;
  }
  const auto exec_of = [&](const std::string& name) {
    return [m = marker(name)](const json& j) {
      return j.contains("argv") && j["argv"].size() > 1 && j["argv"][1] == m;
    };
  };
  const auto first = agent->wait_decision(exec_of("first"));
  ASSERT_TRUE(first) << agent->log_text();
  EXPECT_EQ((*first)["outcome"], "allowed");
  EXPECT_TRUE((*first).contains("sha256"));
  for (const char* name : {"second", "third"}) {
    const auto d = agent->wait_decision(exec_of(name), 1s);
    EXPECT_FALSE(d) << name << " reached the daemon: " << d->dump();
  }
}

// Each policy slot's exact-path entries are a map of their own. Should the slot in force be
// without its map, what the policy says of a file is unknown to the kernel: the exec is the
// daemon's to judge, never "no rule names this file".
TEST_F(Enforcement, ASlotWithoutItsFileMapLeavesEveryExecToTheDaemon) {
  auto agent = Agent::start({deny_path_rules(target_)});
  ASSERT_TRUE(agent);
  const std::string other = work_->file("other");
  copy_file(target_, other);
  const Fd slots(bpf_obj_get(
      fmt::format("{}/abi{}/rule_inodes", agent->pin_dir(), CG_ABI_VERSION).c_str()));
  ASSERT_TRUE(slots) << std::strerror(errno);
  for (uint32_t slot = 0; slot < CG_POLICY_SLOTS; ++slot) {
    bpf_map_delete_elem(slots.get(), &slot);
  }
  uint32_t first = 0;
  uint32_t inner_id = 0;
  ASSERT_NE(bpf_map_lookup_elem(slots.get(), &first, &inner_id), 0) << "a slot kept its map";

  const RunResult denied = run({target_, marker("denied")});
  EXPECT_EQ(denied.signal, SIGKILL);
  EXPECT_FALSE(exists(marker("denied")));
  // The control: a file no rule names still runs, by the same route.
  const RunResult allowed = run({other, marker("allowed")});
  EXPECT_TRUE(allowed.exited && allowed.code == 0);
  EXPECT_TRUE(exists(marker("allowed")));
  const auto decided = [&](const std::string& m) {
    return agent->wait_decision([m](const json& j) {
      return j.contains("argv") && j["argv"].size() > 1 && j["argv"][1] == m;
    });
  };
  const auto d = decided(marker("denied"));
  ASSERT_TRUE(d) << agent->log_text();
  EXPECT_EQ((*d)["outcome"], "denied");
  EXPECT_EQ((*d)["rule"], "deny-target");
  EXPECT_TRUE(decided(marker("allowed"))) << "the kernel judged a file without its map";
}

// The learned map is allocated per entry, not an LRU the kernel evicts from: when it is full the
// daemon makes room, and what it judges next is still learned. Filled here as a long-running host
// fills it: verdicts of older policy generations (useless: the kernel ignores them), then of the
// one in force.
class FullLearnedMap : public Enforcement {
 protected:
  static constexpr uint32_t kOldGeneration = UINT32_MAX;

  // Made-up files live on a device no real file has; the rest were learned from real execs, the
  // test's own and whatever else the host runs meanwhile.
  static constexpr uint32_t kMadeUpDev = 0xfffff;

  // Adds entries for made-up files of `generation` until the map holds `count`, or is full when
  // `count` is empty; returns how many. Real execs may fill the last places meanwhile.
  static uint32_t fill(int fd, uint32_t generation, uint64_t first_ino,
                       std::optional<uint32_t> count = std::nullopt) {
    cg_learned_verdict value{};
    value.generation = generation;
    uint32_t added = 0;
    const uint32_t before = count ? entries(fd) : 0;
    for (uint64_t ino = first_ino; !count || before + added < *count; ++ino, ++added) {
      const cg_inode_key key{.dev = kMadeUpDev, .ino = ino};
      if (bpf_map_update_elem(fd, &key, &value, BPF_NOEXIST) != 0) {
        EXPECT_EQ(errno, E2BIG) << std::strerror(errno);
        break;
      }
    }
    return added;
  }
  struct Count {
    std::optional<uint32_t> generation;  // any, when empty
    std::optional<bool> made_up;         // either kind, when empty
  };
  // Each key once: when a real file's entry goes while the walk is at it (the kernel drops an
  // entry whose file changed), the next key is the first again and the walk starts over.
  static uint32_t entries(int fd, Count which = {}) {
    std::set<std::pair<uint64_t, uint64_t>> seen;
    cg_inode_key key{};
    cg_inode_key next{};
    cg_learned_verdict value{};
    for (const cg_inode_key* prev = nullptr; bpf_map_get_next_key(fd, prev, &next) == 0;
         key = next, prev = &key) {
      const bool generation_matches =
          !which.generation || (bpf_map_lookup_elem(fd, &next, &value) == 0 &&
                                value.generation == *which.generation);
      const bool kind_matches = !which.made_up || (next.dev == kMadeUpDev) == *which.made_up;
      if (generation_matches && kind_matches) {
        seen.emplace(next.dev, next.ino);
      }
    }
    return static_cast<uint32_t>(seen.size());
  }
  static uint32_t capacity(int fd) {
    bpf_map_info info{};
    uint32_t len = sizeof(info);
    return bpf_obj_get_info_by_fd(fd, &info, &len) == 0 ? info.max_entries : 0;
  }

  void SetUp() override {
    Enforcement::SetUp();
    // Any sha256 rule makes every file the kernel does not know the daemon's to judge.
    agent_ = Agent::start({deny_path_rules(target_, fmt::format(R"([[rule]]
id = "deny-content"
action = "deny"
sha256 = "{}")",
                                                               std::string(64, '0')))});
    ASSERT_TRUE(agent_);
    learned_ = Fd(bpf_obj_get(
        fmt::format("{}/abi{}/learned", agent_->pin_dir(), CG_ABI_VERSION).c_str()));
    ASSERT_TRUE(learned_) << std::strerror(errno);
    ASSERT_GT(capacity(learned_.get()), 0u);
  }

  // Whether the daemon saw an exec whose argv[1] is the marker of one of `names`.
  bool reached_daemon(const std::vector<std::string>& names, std::chrono::milliseconds wait) {
    std::vector<std::string> markers;
    for (const auto& n : names) {
      markers.push_back(marker(n));
    }
    const auto pred = [&](const json& j) {
      return j.contains("argv") && j["argv"].size() > 1 &&
             std::find(markers.begin(), markers.end(), j["argv"][1]) != markers.end();
    };
    return agent_->wait_decision(pred, wait).has_value();
  }

  // Runs a new copy of the target three times: the first reaches the daemon, which then learns
  // the file's verdict; the repeats stay in the kernel. `generation`: the one the entry carries.
  void learn_a_file(const std::string& name, uint32_t* generation = nullptr) {
    const std::string file = work_->file(name);
    copy_file(target_, file);
    const std::vector<std::string> runs = {name + "-1", name + "-2", name + "-3"};
    const RunResult first = run({file, marker(runs[0])});
    EXPECT_TRUE(first.exited && first.code == 0) << runs[0];
    ASSERT_TRUE(reached_daemon({runs[0]}, 5s)) << agent_->log_text();
    struct stat st {};
    ASSERT_EQ(::stat(file.c_str(), &st), 0);
    const cg_inode_key key{.dev = kernel_dev_from_user(st.st_dev), .ino = st.st_ino};
    cg_learned_verdict value{};
    ASSERT_TRUE(wait_for(
        [&] { return bpf_map_lookup_elem(learned_.get(), &key, &value) == 0; }, 5s))
        << name << " was not learned:\n" << agent_->log_text();
    if (generation != nullptr) {
      *generation = value.generation;
    }
    for (size_t i = 1; i < runs.size(); ++i) {
      const RunResult r = run({file, marker(runs[i])});
      EXPECT_TRUE(r.exited && r.code == 0) << runs[i];
    }
    EXPECT_FALSE(reached_daemon({runs[1], runs[2]}, 1s)) << name << ": a repeat reached the daemon";
  }

  // The control: as it is, the full map takes no further entry.
  void expect_full() {
    const cg_inode_key extra{.dev = 0xfffff, .ino = 1u << 31};
    const cg_learned_verdict value{};
    EXPECT_NE(bpf_map_update_elem(learned_.get(), &extra, &value, BPF_NOEXIST), 0);
    EXPECT_EQ(errno, E2BIG);
  }

  std::unique_ptr<Agent> agent_;
  Fd learned_;
};

TEST_F(FullLearnedMap, OlderGenerationsMakeRoomFirst) {
  const int fd = learned_.get();
  uint32_t generation = 0;
  ASSERT_NO_FATAL_FAILURE(learn_a_file("first", &generation));
  ASSERT_NE(generation, kOldGeneration);
  const uint32_t full = capacity(fd);
  const uint32_t current = fill(fd, generation, 1, full / 2);
  fill(fd, kOldGeneration, 1u << 30);
  expect_full();

  learn_a_file("second");
  EXPECT_EQ(entries(fd, {.generation = kOldGeneration, .made_up = std::nullopt}), 0u);
  EXPECT_EQ(entries(fd, {.generation = generation, .made_up = true}), current);
}

TEST_F(FullLearnedMap, WithoutOlderGenerationsAnEighthMakesRoom) {
  const int fd = learned_.get();
  uint32_t generation = 0;
  ASSERT_NO_FATAL_FAILURE(learn_a_file("first", &generation));
  const uint32_t full = capacity(fd);
  const uint32_t made_up = fill(fd, generation, 1);
  expect_full();

  learn_a_file("second");
  // An eighth of the map went, made-up entries or real ones, then "second" and whatever else the
  // host ran meanwhile came in. Real entries come and go with the host; made-up ones only went
  // to make room: no more than an eighth of the map, and no fewer than would leave the map
  // fuller than seven eighths with them alone.
  const uint32_t made_up_left = entries(fd, {.generation = std::nullopt, .made_up = true});
  EXPECT_LE(made_up_left, full - full / 8);
  EXPECT_GE(made_up_left, made_up - full / 8);
}

TEST_F(Enforcement, MonitorModeLogsWouldDenyAndKillsNothing) {
  auto agent = Agent::start({deny_path_rules(target_), {"--mode", "monitor"}});
  ASSERT_TRUE(agent);
  const RunResult r = run({target_, marker("monitored"), "x", "5"});
  EXPECT_TRUE(r.exited);
  EXPECT_EQ(r.code, 5);
  EXPECT_TRUE(exists(marker("monitored")));
  auto d = agent->wait_decision([&](const json& j) { return j["exe"] == target_; });
  ASSERT_TRUE(d) << agent->log_text();
  EXPECT_EQ((*d)["outcome"], "would_deny");
  EXPECT_EQ((*d)["mode"], "monitor");
  EXPECT_EQ((*d)["rule"], "deny-target");
}

TEST_F(Enforcement, BrokenReloadKeepsTheOldPolicy) {
  auto agent = Agent::start({deny_path_rules(target_)});
  ASSERT_TRUE(agent);
  agent->write_rules("this is = = not toml [[");
  const std::string status = agent->reload();
  EXPECT_NE(status.find("reload failed"), std::string::npos) << status;
  const RunResult r = run({target_, marker("after-bad-reload")});
  EXPECT_EQ(r.signal, SIGKILL);
  EXPECT_FALSE(exists(marker("after-bad-reload")));
  EXPECT_NE(agent->log_text().find("rules.toml:1:"), std::string::npos) << agent->log_text();

  agent->write_rules(deny_path_rules("/nonexistent/never"));
  EXPECT_EQ(agent->reload().find("reload failed"), std::string::npos);
  const RunResult ok = run({target_, marker("after-good-reload")});
  EXPECT_TRUE(ok.exited);
  EXPECT_TRUE(exists(marker("after-good-reload")));
}

TEST_F(Enforcement, EditedRulesFileIsReloadedWithoutASignal) {
  auto agent = Agent::start({deny_path_rules("/nonexistent/never")});
  ASSERT_TRUE(agent);
  EXPECT_TRUE(run({target_, marker("before")}).exited);
  agent->write_rules(deny_path_rules(target_));
  ASSERT_TRUE(agent->wait_notify("READY=1", 5s)) << agent->log_text();
  const RunResult r = run({target_, marker("after")});
  EXPECT_EQ(r.signal, SIGKILL);
  EXPECT_FALSE(exists(marker("after")));
}

// An upgrade replaces the named file with a new inode; the rule follows the name.
TEST_F(Enforcement, ReplacedTargetIsCoveredAgain) {
  auto agent = Agent::start({deny_path_rules(target_)});
  ASSERT_TRUE(agent);
  const std::string staged = work_->file("target.new");
  copy_file(marker_path(), staged);
  std::filesystem::rename(staged, target_);
  ASSERT_TRUE(agent->wait_notify("READY=1", 5s)) << agent->log_text();
  const RunResult r = run({target_, marker("upgraded")});
  EXPECT_EQ(r.signal, SIGKILL);
  EXPECT_FALSE(exists(marker("upgraded")));
}

TEST_F(Enforcement, StoppingTheDaemonKillsParkedProcessesByDefault) {
  auto agent = Agent::start({ask_path_rules(target_)});
  ASSERT_TRUE(agent);
  const pid_t child = spawn({target_, marker("parked")});
  ASSERT_TRUE(wait_for([&] { return process_state(child) == 'T'; }, 5s));
  EXPECT_TRUE(agent->wait_decision([](const json& j) { return j["outcome"] == "parked"; }));
  EXPECT_EQ(agent->stop(), 0);
  auto status = wait_status(child, 5s);
  ASSERT_TRUE(status);
  EXPECT_TRUE(WIFSIGNALED(*status));
  EXPECT_EQ(WTERMSIG(*status), SIGKILL);
  EXPECT_FALSE(exists(marker("parked")));
}

TEST_F(Enforcement, StoppingTheDaemonCanReleaseParkedProcesses) {
  auto agent = Agent::start({ask_path_rules(target_), {"--on-shutdown", "allow"}});
  ASSERT_TRUE(agent);
  const pid_t child = spawn({target_, marker("released"), "x", "4"});
  ASSERT_TRUE(wait_for([&] { return process_state(child) == 'T'; }, 5s));
  EXPECT_EQ(agent->stop(), 0);
  auto status = wait_status(child, 5s);
  ASSERT_TRUE(status);
  EXPECT_TRUE(WIFEXITED(*status));
  EXPECT_EQ(WEXITSTATUS(*status), 4);
  EXPECT_TRUE(exists(marker("released")));
}

TEST_F(Enforcement, AskTimesOutToItsTimeoutAction) {
  auto agent = Agent::start({ask_path_rules(target_, "300ms")});
  ASSERT_TRUE(agent);
  const RunResult r = run({target_, marker("timed-out")}, 10s);
  EXPECT_EQ(r.signal, SIGKILL);
  EXPECT_FALSE(exists(marker("timed-out")));
  auto d = agent->wait_decision([](const json& j) { return j["decided_by"] == "timeout"; });
  ASSERT_TRUE(d) << agent->log_text();
  EXPECT_EQ((*d)["outcome"], "denied");
  EXPECT_GE((*d)["waited_ms"].get<double>(), 300.0);
}

// The lineage is recorded at fork time: an orphan whose parent exited still names the process
// that spawned it, whatever comm it was reparented under.
TEST_F(Enforcement, AncestorRulesSeeThroughReparenting) {
  const std::string rules = fmt::format(R"(
default_action = "allow"
[[rule]]
id = "no-target-under-agent"
action = "deny"
path = "{}"
ancestor = "fake-agent"
)",
                                        target_);
  auto agent = Agent::start({rules});
  ASSERT_TRUE(agent);

  const std::string m = marker("orphan");
  const pid_t agent_like = ::fork();
  if (agent_like == 0) {
    ::prctl(PR_SET_NAME, "fake-agent");
    const pid_t middle = ::fork();
    if (middle == 0) {
      ::prctl(PR_SET_NAME, "middle");
      if (::fork() == 0) {
        ::usleep(100000);  // let the middle process exit first
        ::execl(target_.c_str(), target_.c_str(), m.c_str(), nullptr);
        ::_exit(127);
      }
      ::_exit(0);
    }
    ::waitpid(middle, nullptr, 0);
    ::usleep(500000);
    ::_exit(0);
  }
  ::waitpid(agent_like, nullptr, 0);
  auto d = agent->wait_decision([&](const json& j) { return j["exe"] == target_; });
  ASSERT_TRUE(d) << agent->log_text();
  EXPECT_EQ((*d)["rule"], "no-target-under-agent");
  EXPECT_EQ((*d)["outcome"], "denied");
  EXPECT_FALSE(exists(m));

  // Without the agent in its lineage the same program runs.
  const RunResult r = run({target_, marker("plain")});
  EXPECT_TRUE(r.exited);
  EXPECT_TRUE(exists(marker("plain")));
}

}  // namespace
}  // namespace cmdgate::test
