// A hold that talks: the process whose exec is denied or held is told why on its own stderr, as
// an AI agent's tool runner reads it (`bash -c 'CMD'`, stderr captured); nothing is said when
// the command runs; a full or closed stderr changes no decision.

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <thread>

#include "harness.h"

namespace cmdgate::test {
namespace {

using nlohmann::json;
using namespace std::chrono_literals;

// Killed (bash -c runs a lone command in its own process) or bash's 128 + SIGKILL.
bool killed(int status) {
  return (WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL) ||
         (WIFEXITED(status) && WEXITSTATUS(status) == 128 + SIGKILL);
}

// A tool runner: runs argv with stderr on a pipe it reads; stdout goes nowhere.
class ToolRunner {
 public:
  explicit ToolRunner(const std::vector<std::string>& argv) {
    int fds[2];
    EXPECT_EQ(::pipe2(fds, O_CLOEXEC), 0);
    pid_ = ::fork();
    if (pid_ == 0) {
      ::setsid();  // a session of its own: the test, an approver, is then outside its tree
      const int null = ::open("/dev/null", O_WRONLY);
      ::dup2(null, 1);
      ::dup2(fds[1], 2);
      exec_argv(argv);
    }
    ::close(fds[1]);
    err_.reset(fds[0]);
  }
  // Reads what arrived on stderr until `text` shows up or the timeout passes.
  bool wait_for_text(const std::string& text, std::chrono::milliseconds timeout) {
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    while (stderr_.find(text) == std::string::npos && std::chrono::steady_clock::now() < deadline) {
      pollfd p{err_.get(), POLLIN, 0};
      if (::poll(&p, 1, 50) > 0) {
        char buf[4096];
        const ssize_t n = ::read(err_.get(), buf, sizeof(buf));
        if (n <= 0) {
          break;
        }
        stderr_.append(buf, static_cast<size_t>(n));
      }
    }
    return stderr_.find(text) != std::string::npos;
  }
  // Waits for the runner's command and reads the rest of stderr.
  int finish() {
    wait_for_text("\x01never", 100ms);
    auto st = wait_status(pid_, 30s);
    wait_for_text("\x01never", 200ms);
    return st ? *st : -1;
  }
  const std::string& stderr_text() const { return stderr_; }
  pid_t pid() const { return pid_; }

 private:
  pid_t pid_ = -1;
  Fd err_;
  std::string stderr_;
};

class Caller : public MarkerTargetTest {
 protected:
  void SetUp() override {
    MarkerTargetTest::SetUp();
    agent_bash_ = work_->file("claude");  // a bash named like an agent
    copy_file("/bin/bash", agent_bash_);
  }
  std::string rules(const std::string& action, const std::string& extra = "") const {
    return fmt::format(R"(
default_action = "allow"
[[rule]]
id = "no-force"
action = "{}"
path = "{}"
args = "^--force$"
description = "force-pushing rewrites shared history"
url = "https://wiki.example/force-push"
{}
)",
                       action, target_, extra);
  }
  std::string agent_bash_;
};

TEST_F(Caller, ADeniedCommandTellsItsCallerWhyAndAnAllowedOneSaysNothing) {
  auto agent = Agent::start({rules("deny")});
  ASSERT_TRUE(agent);
  ToolRunner denied({agent_bash_, "-c", fmt::format("{} {} --force", target_, marker("forced"))});
  EXPECT_TRUE(killed(denied.finish()));
  EXPECT_FALSE(exists(marker("forced")));
  const std::string& err = denied.stderr_text();
  EXPECT_NE(err.find("cmdgate: denied"), std::string::npos) << err;
  EXPECT_NE(err.find("force-pushing rewrites shared history (rule no-force)"), std::string::npos)
      << err;
  EXPECT_NE(err.find("See https://wiki.example/force-push"), std::string::npos) << err;
  auto d = agent->wait_decision(
      [&](const json& j) { return j["rule"] == "no-force" && j["outcome"] == "denied"; });
  ASSERT_TRUE(d) << agent->log_text();
  EXPECT_EQ((*d)["told_delivered"], true);

  ToolRunner allowed({agent_bash_, "-c", fmt::format("{} {} --gentle", target_, marker("gentle"))});
  EXPECT_EQ(allowed.finish(), 0);
  EXPECT_TRUE(exists(marker("gentle")));
  EXPECT_EQ(allowed.stderr_text().find("cmdgate"), std::string::npos) << allowed.stderr_text();
}

TEST_F(Caller, AHeldCommandSaysItWaitsThenHowItWasDecided) {
  auto agent = Agent::start({rules("ask", "timeout = \"2s\"\ntimeout_action = \"deny\"")});
  ASSERT_TRUE(agent);
  ToolRunner held({agent_bash_, "-c", fmt::format("{} {} --force", target_, marker("held"))});
  ASSERT_TRUE(held.wait_for_text("cmdgate: waiting for a person to approve", 10s))
      << held.stderr_text() << agent->log_text();
  EXPECT_NE(held.stderr_text().find("rule no-force, up to 2s, then denied): force-pushing"),
            std::string::npos)
      << held.stderr_text();
  EXPECT_TRUE(killed(held.finish()));
  EXPECT_FALSE(exists(marker("held")));
  EXPECT_NE(held.stderr_text().find("timed out: denied"), std::string::npos)
      << held.stderr_text();

  // Approved by a person: the second line says so and the command runs.
  // bash forks the command here (it runs more than one): the requester's parent is then bash, in
  // the runner's own session, and the test, which approves, is outside the requesting session.
  ToolRunner approved(
      {agent_bash_, "-c", fmt::format("{} {} --force; exit $?", target_, marker("ok"))});
  ASSERT_TRUE(approved.wait_for_text("(request ", 10s)) << approved.stderr_text();
  const std::string& text = approved.stderr_text();
  const size_t at = text.find("(request ") + 9;
  const std::string id = text.substr(at, text.find(',', at) - at);
  const RunResult r = run({cli_path(), "approve", id, "--socket", agent->socket_path()});
  EXPECT_EQ(r.code, 0) << r.out << agent->log_text();
  EXPECT_EQ(approved.finish(), 0);
  EXPECT_TRUE(exists(marker("ok")));
  EXPECT_NE(approved.stderr_text().find("request " + id + " approved by a person"),
            std::string::npos)
      << approved.stderr_text();
}

// A full pipe or a closed stderr loses the line, never the decision, and stalls nothing.
TEST_F(Caller, AFullOrClosedStderrChangesNoDecision) {
  auto agent = Agent::start({rules("deny")});
  ASSERT_TRUE(agent);
  int full[2];
  ASSERT_EQ(::pipe2(full, O_CLOEXEC | O_NONBLOCK), 0);
  const std::string filler(1 << 16, 'x');
  while (::write(full[1], filler.data(), filler.size()) > 0) {
  }
  const pid_t a = ::fork();
  if (a == 0) {
    ::dup2(full[1], 2);
    ::fcntl(2, F_SETFL, 0);  // as a normal, blocking stderr
    exec_argv({target_, marker("full"), "--force"});
  }
  const pid_t b = ::fork();
  if (b == 0) {
    ::close(2);
    exec_argv({target_, marker("closed"), "--force"});
  }
  for (pid_t p : {a, b}) {
    auto st = wait_status(p, 10s);
    ASSERT_TRUE(st) << "left stopped";
    EXPECT_TRUE(WIFSIGNALED(*st) && WTERMSIG(*st) == SIGKILL);
  }
  EXPECT_FALSE(exists(marker("full")));
  EXPECT_FALSE(exists(marker("closed")));
  for (pid_t p : {a, b}) {
    auto d = agent->wait_decision([&](const json& j) { return j["tgid"] == p; });
    ASSERT_TRUE(d) << agent->log_text();
    EXPECT_EQ((*d)["outcome"], "denied");
    EXPECT_EQ((*d)["told_delivered"], false);
  }
  // Still deciding at once.
  const auto t0 = std::chrono::steady_clock::now();
  EXPECT_EQ(run({target_, marker("after"), "--gentle"}).code, 0);
  EXPECT_LT(std::chrono::steady_clock::now() - t0, 2s);
  ::close(full[0]);
  ::close(full[1]);
}

}  // namespace
}  // namespace cmdgate::test
