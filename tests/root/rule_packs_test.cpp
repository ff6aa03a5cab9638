// The shipped packs under the real daemon, with real programs started from fake process trees
// (a process named claude, nginx, ...).
//
// This host is shared: an enforcing ai-agents or servers pack would park or kill other people's
// git, rm, shells and compilers for the duration of a test. So the enforcing tests load the pack
// with one condition added to every rule, `user = kTestUid` (a uid no one uses), and run their
// commands as that uid; everything else in the pack is as shipped. The monitoring test loads the
// packs unmodified and runs as root: monitor mode blocks nothing.

#include <fcntl.h>
#include <grp.h>
#include <pwd.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <sstream>

#include "harness.h"

namespace cmdgate::test {
namespace {

using nlohmann::json;
using namespace std::chrono_literals;

constexpr uid_t kTestUid = 64123;

// The pack with `user = kTestUid` added to every rule.
std::string narrowed(const std::string& name) {
  std::istringstream in(read_pack(name));
  std::string out, line;
  while (std::getline(in, line)) {
    EXPECT_FALSE(line.starts_with("user")) << name << " sets user itself";
    out += line + "\n";
    if (line == "[[rule]]") {
      out += fmt::format("user = {}\n", kTestUid);
    }
  }
  return out;
}

// A process of kTestUid named `comm` that runs argv as its child, the way an agent runs a tool.
// The child's pid is known as soon as it is forked.
struct Tree {
  pid_t parent = -1;
  pid_t child = -1;

  // Waits for the parent; its exit status is the child's (128 + signal when killed).
  int wait(std::chrono::milliseconds timeout = 10s) {
    const auto st = wait_status(parent, timeout);
    parent = -1;
    return st && WIFEXITED(*st) ? WEXITSTATUS(*st) : -1;
  }
  ~Tree() {
    if (parent > 0) {
      ::kill(child, SIGKILL);
      wait(2s);
    }
  }
};

std::unique_ptr<Tree> start_tree(const std::string& comm, const std::vector<std::string>& argv,
                                 const std::string& home) {
  const uid_t uid = kTestUid;
  int fds[2];
  if (::pipe(fds) != 0) {
    return nullptr;
  }
  auto t = std::make_unique<Tree>();
  t->parent = ::fork();
  if (t->parent == 0) {
    ::close(fds[0]);
    if (::setgroups(0, nullptr) != 0 || ::setresgid(uid, uid, uid) != 0 ||
        ::setresuid(uid, uid, uid) != 0) {
      ::_exit(126);
    }
    ::prctl(PR_SET_NAME, comm.c_str());
    ::setenv("HOME", home.c_str(), 1);
    ::setenv("PATH", "/usr/local/bin:/usr/bin:/bin", 1);
    const pid_t child = ::fork();
    if (child == 0) {
      const int null = ::open("/dev/null", O_RDWR);
      ::dup2(null, 1);
      ::dup2(null, 2);
      exec_argv(argv);
    }
    (void)!::write(fds[1], &child, sizeof(child));
    int st = 0;
    ::waitpid(child, &st, 0);
    ::_exit(WIFSIGNALED(st) ? 128 + WTERMSIG(st) : WEXITSTATUS(st));
  }
  ::close(fds[1]);
  if (::read(fds[0], &t->child, sizeof(t->child)) != sizeof(t->child)) {
    t->child = -1;
  }
  ::close(fds[0]);
  return t;
}

class RulePacks : public ::testing::Test {
 protected:
  void SetUp() override {
    CMDGATE_REQUIRE_ROOT_BPF();
    ASSERT_EQ(::getpwuid(kTestUid), nullptr) << "uid " << kTestUid << " exists on this host";
    work_ = std::make_unique<TempDir>();
  }

  // Runs a setup command as root; fails the test when it fails.
  void sh(const std::string& script) {
    const RunResult r = run({"/bin/sh", "-c", script});
    ASSERT_TRUE(r.exited && r.code == 0) << script;
  }

  // A repository with one commit, pushed to a bare remote, all owned by the test uid.
  void make_repo() {
    const std::string git = "git -c user.name=t -c user.email=t@example.com";
    sh(fmt::format(
        "cd {0} && git init -q --bare -b main remote.git && git init -q -b main work && "
        "cd work && echo 1 > f && git add f && {1} commit -qm one && "
        "git remote add origin {0}/remote.git && git push -q origin main && "
        "echo 2 > f && {1} commit -q --amend -am two && chown -R {2}:{2} {0}",
        work_->path(), git, kTestUid));
  }
  // Read directly: git refuses to work as root in a repository another user owns.
  std::string remote_head() {
    std::ifstream f(work_->file("remote.git/refs/heads/main"));
    std::string head;
    std::getline(f, head);
    return head;
  }

  std::unique_ptr<TempDir> work_;
};

auto parked_by(const std::string& rule) {
  return [rule](const json& j) { return j["outcome"] == "parked" && j["rule"] == rule; };
}

TEST_F(RulePacks, AiAgentsParksDestructiveCommandsOfAnAgentAndNothingElse) {
  make_repo();
  const std::string before = remote_head();
  ASSERT_FALSE(before.empty());
  const std::string victim = work_->file("victim");
  sh(fmt::format("mkdir -p {0}/data && chown -R {1} {0}", victim, kTestUid));

  auto agent = Agent::start(
      {narrowed("ai-agents.toml"), {"--rules", CMDGATE_SOURCE_DIR "/rules/default.toml"}});
  ASSERT_TRUE(agent);

  const std::string work = work_->file("work");
  auto push = start_tree(
      "claude", {"/usr/bin/git", "-C", work, "push", "--force", "origin", "main"}, work_->path());
  auto pipe =
      start_tree("claude", {"/bin/bash", "-c", "curl -s http://127.0.0.1:9/ | sh"}, work_->path());
  auto rm = start_tree("codex", {"/bin/rm", "-rf", victim}, work_->path());
  for (const Tree* t : {push.get(), pipe.get(), rm.get()}) {
    ASSERT_TRUE(wait_for([&] { return process_state(t->child) == 'T'; }, 5s))
        << "not parked: " << t->child << "\n"
        << agent->log_text();
  }
  EXPECT_TRUE(agent->wait_decision(parked_by("agent-git-push-force")));
  EXPECT_TRUE(agent->wait_decision(parked_by("agent-pipe-to-shell")));
  EXPECT_TRUE(agent->wait_decision(parked_by("agent-rm-outside-tree")));

  // The agent's harmless commands run meanwhile, and so do a human's destructive ones.
  EXPECT_EQ(start_tree("claude", {"/usr/bin/git", "-C", work, "status"}, work_->path())->wait(), 0);
  EXPECT_EQ(start_tree("bash", {"/bin/rm", "-rf", victim + "/data"}, work_->path())->wait(), 0);
  EXPECT_FALSE(exists(victim + "/data"));

  // Nobody answers: stopping the daemon settles every parked process (on_shutdown = deny).
  EXPECT_EQ(agent->stop(), 0);
  EXPECT_EQ(push->wait(), 128 + SIGKILL);
  EXPECT_EQ(pipe->wait(), 128 + SIGKILL);
  EXPECT_EQ(rm->wait(), 128 + SIGKILL);
  EXPECT_TRUE(exists(victim));
  EXPECT_EQ(remote_head(), before) << "the force push went through";
}

TEST_F(RulePacks, ServersKillsShellsBelowAWebServerAndCompilers) {
  sh(fmt::format("chown {} {}", kTestUid, work_->path()));
  auto agent = Agent::start(
      {narrowed("servers.toml"), {"--rules", CMDGATE_SOURCE_DIR "/rules/default.toml"}});
  ASSERT_TRUE(agent);
  const std::string pwned = work_->file("pwned");
  EXPECT_EQ(start_tree("nginx", {"/bin/sh", "-c", "echo pwned > " + pwned}, work_->path())->wait(),
            128 + SIGKILL);
  EXPECT_FALSE(exists(pwned));
  auto shell = agent->wait_decision([](const json& j) { return j["rule"] == "server-web-shells"; });
  ASSERT_TRUE(shell) << agent->log_text();
  EXPECT_EQ((*shell)["outcome"], "denied");
  EXPECT_EQ((*shell)["lineage"][0]["comm"], "nginx");

  EXPECT_EQ(start_tree("cron", {"/usr/bin/gcc", "--version"}, work_->path())->wait(),
            128 + SIGKILL);
  auto cc = agent->wait_decision([](const json& j) { return j["rule"] == "server-compilers"; });
  ASSERT_TRUE(cc) << agent->log_text();
  EXPECT_EQ((*cc)["outcome"], "denied");

  // A shell outside a web server's tree runs.
  const std::string ok = work_->file("ok");
  EXPECT_EQ(start_tree("cron", {"/bin/sh", "-c", "echo ok > " + ok}, work_->path())->wait(), 0);
  EXPECT_TRUE(exists(ok));
}

TEST_F(RulePacks, ShippedPacksUnmodifiedInMonitorMode) {
  make_repo();
  sh(fmt::format("cd {}/work && echo junk > untracked && chown {} untracked", work_->path(),
                 kTestUid));
  const std::string packs = CMDGATE_SOURCE_DIR "/rules";
  auto agent = Agent::start({"", {"--rules", packs, "--mode", "monitor"}});
  ASSERT_TRUE(agent);
  const std::string work = work_->file("work");
  EXPECT_EQ(
      start_tree("claude", {"/usr/bin/git", "-C", work, "clean", "-fdx"}, work_->path())->wait(),
      0);
  auto ask = agent->wait_decision([](const json& j) { return j["rule"] == "agent-git-discard"; });
  ASSERT_TRUE(ask) << agent->log_text();
  EXPECT_EQ((*ask)["outcome"], "would_ask");
  EXPECT_FALSE(exists(work + "/untracked")) << "monitor mode must not hold the command";

  EXPECT_EQ(start_tree("nginx", {"/bin/sh", "-c", "true"}, work_->path())->wait(), 0);
  auto deny = agent->wait_decision([](const json& j) { return j["rule"] == "server-web-shells"; });
  ASSERT_TRUE(deny) << agent->log_text();
  EXPECT_EQ((*deny)["outcome"], "would_deny");
}

}  // namespace
}  // namespace cmdgate::test
