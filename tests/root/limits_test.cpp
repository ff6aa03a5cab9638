// Facts past the daemon's limits are unknown, never "no rule matches": a file too large to hash,
// an argv longer than the old 4 MiB cut, a path deeper and longer than the kernel's walk. And
// none of them stalls the decisions of other processes. Each case has a control.

#include <fcntl.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <filesystem>

#include "harness.h"

namespace cmdgate::test {
namespace {

using nlohmann::json;
using namespace std::chrono_literals;


std::string sha256_rule(const std::string& hex) {
  return fmt::format(R"([[rule]]
id = "deny-content"
action = "deny"
sha256 = "{}")",
                     hex);
}

class Limits : public MarkerTargetTest {};

// A valid program followed by a terabyte of holes: too large to hash, so a sha256 deny rule
// might match it and holds it, at once, while another process's exec is decided meanwhile.
TEST_F(Limits, AFileTooLargeToHashIsHeldByAHashRuleWithoutStallingOthers) {
  const std::string big = work_->file("big");
  copy_file(target_, big);
  ASSERT_EQ(::truncate(big.c_str(), off_t{1} << 40), 0);
  auto agent = Agent::start({deny_path_rules("/nonexistent/never", sha256_rule(std::string(64, '1')))});
  ASSERT_TRUE(agent);
  const auto t0 = std::chrono::steady_clock::now();
  const RunResult r = run({big, marker("big")});
  const RunResult other = run({target_, marker("other")});
  const auto took = std::chrono::steady_clock::now() - t0;
  EXPECT_EQ(r.signal, SIGKILL);
  EXPECT_FALSE(exists(marker("big")));
  EXPECT_EQ(other.code, 0);
  EXPECT_TRUE(exists(marker("other")));
  EXPECT_LT(took, 5s) << "hashing stalled the daemon";
  auto d = agent->wait_decision([&](const json& j) { return j["exe"] == big; });
  ASSERT_TRUE(d) << agent->log_text();
  EXPECT_EQ((*d)["outcome"], "denied");
  EXPECT_EQ((*d)["uncertain"], true);
  EXPECT_EQ((*d)["unknown"], json::array({"sha256"}));
}

TEST_F(Limits, AFileTooLargeToHashRunsWhenNoHashRuleCouldMatch) {
  const std::string big = work_->file("big");
  copy_file(target_, big);
  ASSERT_EQ(::truncate(big.c_str(), off_t{1} << 40), 0);
  auto agent = Agent::start({deny_path_rules("/nonexistent/never")});
  ASSERT_TRUE(agent);
  const RunResult r = run({big, marker("big-control")});
  EXPECT_EQ(r.code, 0);
  EXPECT_TRUE(exists(marker("big-control")));
}

// 45 arguments of 128 KiB and then the one the rule looks for: past 4 MiB of argv.
TEST_F(Limits, ALongArgvIsJudgedInFull) {
  auto agent = Agent::start({fmt::format(R"(
default_action = "allow"
[[rule]]
id = "no-bad-flag"
action = "deny"
path = "{}"
args = "^--bad$"
)",
                                         target_)});
  ASSERT_TRUE(agent);
  // argv may take a quarter of the stack limit (at most 6 MiB): raised for the children.
  rlimit old{};
  ::getrlimit(RLIMIT_STACK, &old);
  rlimit big{256u << 20, 256u << 20};
  ASSERT_EQ(::setrlimit(RLIMIT_STACK, &big), 0);
  std::vector<std::string> argv = {target_, marker("long")};
  for (int i = 0; i < 45; ++i) {
    argv.push_back(std::string((128 << 10) - 1, 'a'));
  }
  std::vector<std::string> control = argv;
  control[1] = marker("long-control");
  argv.push_back("--bad");
  const RunResult r = run(argv, 60s);
  EXPECT_EQ(r.signal, SIGKILL);
  EXPECT_FALSE(exists(marker("long")));
  const RunResult ok = run(control, 60s);
  ::setrlimit(RLIMIT_STACK, &old);
  EXPECT_EQ(ok.code, 0);
  EXPECT_TRUE(exists(marker("long-control")));
}

// A program 60 directories deep with a path of over 4096 bytes: the kernel's walk stops short
// of the root and readlink cannot give the whole path either. A glob deny over the tree holds it.
TEST_F(Limits, AProgramDeeperAndLongerThanThePathWalkIsHeldByAGlob) {
  const std::string top = work_->file("deep");
  std::filesystem::create_directories(top);
  int dir = ::open(top.c_str(), O_PATH | O_DIRECTORY);
  ASSERT_GE(dir, 0);
  const std::string name(70, 'd');
  for (int i = 0; i < 60; ++i) {
    ASSERT_EQ(::mkdirat(dir, name.c_str(), 0755), 0);
    const int next = ::openat(dir, name.c_str(), O_PATH | O_DIRECTORY);
    ::close(dir);
    dir = next;
    ASSERT_GE(dir, 0);
  }
  // The program, copied in at the bottom through descriptors (its path is too long to name).
  {
    const int in = ::open(target_.c_str(), O_RDONLY);
    const int out = ::openat(dir, "prog", O_WRONLY | O_CREAT, 0755);
    ASSERT_GE(in, 0);
    ASSERT_GE(out, 0);
    char buf[65536];
    ssize_t n = 0;
    while ((n = ::read(in, buf, sizeof(buf))) > 0) {
      ASSERT_EQ(::write(out, buf, static_cast<size_t>(n)), n);
    }
    ::close(in);
    ::close(out);
  }
  auto run_deep = [&](const std::string& m) {
    const pid_t pid = ::fork();
    if (pid == 0) {
      if (::fchdir(dir) != 0) {
        ::_exit(126);
      }
      exec_argv({"./prog", m});
    }
    return wait_status(pid, 20s);
  };
  {
    auto agent = Agent::start({fmt::format(R"(
default_action = "allow"
[[rule]]
id = "deny-tree"
action = "deny"
path = "{}/**"
)",
                                           top)});
    ASSERT_TRUE(agent);
    auto st = run_deep(marker("deep"));
    ASSERT_TRUE(st);
    EXPECT_TRUE(WIFSIGNALED(*st) && WTERMSIG(*st) == SIGKILL);
    EXPECT_FALSE(exists(marker("deep")));
  }
  // Control. (A glob anywhere would hold it too: nothing tells the daemon the path is not under
  // that glob's directory.)
  auto agent = Agent::start({deny_path_rules("/nonexistent/never")});
  ASSERT_TRUE(agent);
  auto ok = run_deep(marker("deep-control"));
  ASSERT_TRUE(ok);
  EXPECT_TRUE(WIFEXITED(*ok) && WEXITSTATUS(*ok) == 0);
  EXPECT_TRUE(exists(marker("deep-control")));
  ::close(dir);
  std::error_code ec;
  std::filesystem::remove_all(top, ec);
}

}  // namespace
}  // namespace cmdgate::test
