// Proof of a person (issue 13): an approval from the requester's own uid counts only with that
// account's password, typed at a terminal. The account is real (useradd, chpasswd), checked by
// pam_unix through the shipped /etc/pam.d/cmdgate, and the CLI runs on a pseudo-terminal, so
// that /dev/tty is there, or with no terminal at all, as a helper an agent left behind would.

#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include <fstream>

#include "approval_kit.h"

namespace cmdgate::test {
namespace {

using nlohmann::json;
using namespace std::chrono_literals;

class ApprovalAuth : public MarkerTargetTest {
 protected:
  void SetUp() override {
    MarkerTargetTest::SetUp();
    if (IsSkipped() || HasFatalFailure()) {
      return;
    }
    CMDGATE_REQUIRE_AUTH();
    pam_ = std::make_unique<PamService>();
    user_ = TestUser::create();
    ASSERT_TRUE(user_);
    ::chmod(work_->path().c_str(), 0777);  // the markers of the user's commands
    config_ = work_->file("cmdgate.toml");
    std::ofstream(config_) << fmt::format("[approval]\napprover_group = \"{}\"\n", user_->group());
  }
  void TearDown() override {
    agent_.reset();  // before the account its processes run as
    user_.reset();
    pam_.reset();
  }

  void start(std::vector<std::string> args = {}, std::vector<std::string> wrapper = {}) {
    args.insert(args.begin(), {"--config", config_});
    Agent::Options o{ask_path_rules(target_), args};
    o.wrapper = std::move(wrapper);
    agent_ = Agent::start(o);
    ASSERT_TRUE(agent_);
  }
  // A command of the test user that waits for a decision: its request id.
  uint64_t park_users_command(Requester& req, const std::string& name, const std::string& code) {
    req = spawn_requester({target_, marker(name), "", code}, "/", user_->id());
    const auto id = wait_pending(*agent_, req.target);
    EXPECT_TRUE(id) << agent_->log_text();
    return id.value_or(0);
  }
  std::vector<std::string> approve(uint64_t id) const {
    return {cli_path(), "approve", std::to_string(id), "--socket", agent_->socket_path()};
  }
  void expect_still_parked(const Requester& req, const std::string& name) {
    std::this_thread::sleep_for(100ms);
    EXPECT_EQ(process_state(req.target), 'T');
    EXPECT_FALSE(exists(marker(name)));
  }
  static void kill_requester(const Requester& req) {
    ::kill(req.target, SIGKILL);
    ::waitpid(req.shim, nullptr, 0);
  }

  std::unique_ptr<PamService> pam_;
  std::unique_ptr<TestUser> user_;
  std::string config_;
  std::unique_ptr<Agent> agent_;
};

// The attack of the issue: the agent's user is an approver, and the agent left a process of its
// own outside its tree (its own session, started before the request) that now runs
// `cmdgate approve`. The tree check passes it; the missing terminal and password do not.
TEST_F(ApprovalAuth, ASameUidHelperOutsideTheTreeCannotApprove) {
  start();
  DetachedHelper helper(user_->id());
  Requester req;
  const uint64_t id = park_users_command(req, "helper", "3");
  ASSERT_NE(id, 0u);
  helper.run(approve(id));
  auto st = helper.wait();
  ASSERT_TRUE(st);
  EXPECT_TRUE(WIFEXITED(*st) && WEXITSTATUS(*st) == 1) << helper.output();
  EXPECT_NE(helper.output().find("no terminal"), std::string::npos) << helper.output();
  expect_still_parked(req, "helper");
  EXPECT_NE(agent_->log_text().find("refused approval of request"), std::string::npos)
      << agent_->log_text();

  // Denying needs no password: it cannot make anything run.
  DetachedHelper denier(user_->id());
  denier.run({cli_path(), "deny", std::to_string(id), "--socket", agent_->socket_path()});
  auto dst = denier.wait();
  ASSERT_TRUE(dst);
  EXPECT_TRUE(WIFEXITED(*dst) && WEXITSTATUS(*dst) == 0) << denier.output();
  auto rst = wait_status(req.shim, 10s);
  ASSERT_TRUE(rst);
  EXPECT_TRUE(WIFSIGNALED(*rst) && WTERMSIG(*rst) == SIGKILL);
  EXPECT_FALSE(exists(marker("helper")));
}

TEST_F(ApprovalAuth, ThePasswordTypedAtATerminalApproves) {
  start();
  Requester req;
  const uint64_t id = park_users_command(req, "typed", "7");
  ASSERT_NE(id, 0u);
  OnTerminal approver(approve(id), user_->id());
  ASSERT_TRUE(approver.read_until("Password:")) << approver.shown();
  EXPECT_NE(approver.shown().find("needs the password of " + user_->id().name),
            std::string::npos)
      << approver.shown();
  ASSERT_TRUE(approver.type(user_->password()));
  auto st = approver.wait();
  ASSERT_TRUE(st) << approver.shown();
  EXPECT_TRUE(WIFEXITED(*st) && WEXITSTATUS(*st) == 0) << approver.shown();
  EXPECT_EQ(approver.shown().find(user_->password()), std::string::npos) << "echoed";
  auto rst = wait_status(req.shim, 10s);
  ASSERT_TRUE(rst);
  EXPECT_TRUE(WIFEXITED(*rst) && WEXITSTATUS(*rst) == 7);
  EXPECT_TRUE(exists(marker("typed")));
  auto d = agent_->wait_decision([](const json& j) { return j["decided_by"] == "approver"; });
  ASSERT_TRUE(d);
  EXPECT_EQ((*d)["approver"]["uid"], user_->id().uid);
  EXPECT_EQ(counter(*agent_, "auth_succeeded"), 1);
  EXPECT_EQ(counter(*agent_, "auth_failed"), 0);
}

TEST_F(ApprovalAuth, AWrongPasswordIsRefusedCountedAndBacksOff) {
  start();
  Requester req;
  const uint64_t id = park_users_command(req, "guessed", "0");
  ASSERT_NE(id, 0u);
  {
    OnTerminal guess(approve(id), user_->id());
    ASSERT_TRUE(guess.read_until("Password:")) << guess.shown();
    ASSERT_TRUE(guess.type("not-" + user_->password()));
    auto st = guess.wait();
    ASSERT_TRUE(st) << guess.shown();
    EXPECT_TRUE(WIFEXITED(*st) && WEXITSTATUS(*st) == 1) << guess.shown();
    EXPECT_NE(guess.shown().find("refused"), std::string::npos) << guess.shown();
  }
  expect_still_parked(req, "guessed");
  EXPECT_EQ(counter(*agent_, "auth_failed"), 1);
  EXPECT_NE(agent_->log_text().find("failed after"), std::string::npos) << agent_->log_text();
  // The next attempt right away is not even asked: the uid is backed off.
  {
    OnTerminal again(approve(id), user_->id());
    auto st = again.wait();
    ASSERT_TRUE(st) << again.shown();
    EXPECT_TRUE(WIFEXITED(*st) && WEXITSTATUS(*st) == 1) << again.shown();
    EXPECT_EQ(again.shown().find("Password:"), std::string::npos) << again.shown();
    EXPECT_NE(again.shown().find("try again in"), std::string::npos) << again.shown();
  }
  EXPECT_EQ(counter(*agent_, "auth_refused"), 1);
  expect_still_parked(req, "guessed");
  kill_requester(req);
}

// PAM inside the daemon's systemd sandbox (systemd/cmdgated.service, applied by cg_unit_sandbox):
// a read-only system, a capability bounding set without CAP_DAC_OVERRIDE, a system call filter.
// The unit's daemon hands the socket to its own group (Group=); here, without a cmdgate group,
// that is root's, so the account approves as a member of it.
TEST_F(ApprovalAuth, ThePasswordApprovesInsideTheUnitsSandbox) {
  ASSERT_EQ(run({"/usr/sbin/usermod", "--append", "--groups", "root", user_->id().name}).code, 0);
  std::ofstream(config_) << "[approval]\napprover_group = \"root\"\n";
  start({}, {CG_UNIT_SANDBOX_PATH, CMDGATE_SOURCE_DIR "/systemd/cmdgated.service", "--rw", "/tmp",
             "--"});
  Requester req;
  const uint64_t id = park_users_command(req, "sandboxed", "8");
  ASSERT_NE(id, 0u);
  OnTerminal approver(approve(id), user_->id());
  ASSERT_TRUE(approver.read_until("Password:")) << approver.shown();
  ASSERT_TRUE(approver.type(user_->password()));
  auto st = approver.wait();
  ASSERT_TRUE(st) << approver.shown();
  EXPECT_TRUE(WIFEXITED(*st) && WEXITSTATUS(*st) == 0) << approver.shown() << agent_->log_text();
  auto rst = wait_status(req.shim, 10s);
  ASSERT_TRUE(rst);
  EXPECT_TRUE(WIFEXITED(*rst) && WEXITSTATUS(*rst) == 8);
}

// A prompt session authenticates once, on its own connection, and then answers the next
// request without asking again.
TEST_F(ApprovalAuth, APromptSessionAuthenticatesOnce) {
  start();
  OnTerminal prompt({cli_path(), "prompt", "--socket", agent_->socket_path()}, user_->id());
  ASSERT_TRUE(prompt.read_until("waiting for approval requests")) << prompt.shown();
  Requester first;
  ASSERT_NE(park_users_command(first, "first", "4"), 0u);
  ASSERT_TRUE(prompt.read_until("allow?")) << prompt.shown();
  ASSERT_TRUE(prompt.type("y"));
  ASSERT_TRUE(prompt.read_until("Password:")) << prompt.shown();
  ASSERT_TRUE(prompt.type(user_->password()));
  auto st = wait_status(first.shim, 10s);
  ASSERT_TRUE(st) << prompt.shown();
  EXPECT_TRUE(WIFEXITED(*st) && WEXITSTATUS(*st) == 4);

  Requester second;
  ASSERT_NE(park_users_command(second, "second", "5"), 0u);
  ASSERT_TRUE(prompt.read_until("allow?", 2)) << prompt.shown();
  ASSERT_TRUE(prompt.type("y"));
  st = wait_status(second.shim, 10s);
  ASSERT_TRUE(st) << prompt.shown();
  EXPECT_TRUE(WIFEXITED(*st) && WEXITSTATUS(*st) == 5);
  ASSERT_TRUE(prompt.read_until("allowed", 2)) << prompt.shown();
  EXPECT_TRUE(prompt.read_until("Password:", 1));
  EXPECT_FALSE(prompt.read_until("Password:", 2, 200ms)) << prompt.shown();
  EXPECT_EQ(counter(*agent_, "auth_succeeded"), 1);
  ASSERT_TRUE(prompt.type("q"));
  EXPECT_TRUE(prompt.wait());
}

// Another uid's approval is what the tree and group checks were always for: no password.
TEST_F(ApprovalAuth, RootApprovingAnotherUsersCommandIsNotAsked) {
  start();
  Requester req;
  const uint64_t id = park_users_command(req, "by-root", "6");
  ASSERT_NE(id, 0u);
  const RunResult r = run(approve(id));  // no terminal
  EXPECT_EQ(r.code, 0) << r.out;
  auto st = wait_status(req.shim, 10s);
  ASSERT_TRUE(st);
  EXPECT_TRUE(WIFEXITED(*st) && WEXITSTATUS(*st) == 6);
  EXPECT_EQ(counter(*agent_, "auth_succeeded"), 0);
}

// authenticate = "always": every approval, root's included.
TEST_F(ApprovalAuth, AlwaysAsksEveryApprover) {
  start({"--authenticate", "always"});
  Requester req;
  const uint64_t id = park_users_command(req, "always", "0");
  ASSERT_NE(id, 0u);
  const RunResult r = run(approve(id));
  EXPECT_EQ(r.code, 1) << r.out;
  expect_still_parked(req, "always");
  kill_requester(req);
}

// authenticate = "never" is the attack of the issue succeeding: why the docs call it unsafe
// wherever an agent runs as an approver.
TEST_F(ApprovalAuth, NeverLetsASameUidHelperApprove) {
  start({"--authenticate", "never"});
  DetachedHelper helper(user_->id());
  Requester req;
  const uint64_t id = park_users_command(req, "never", "9");
  ASSERT_NE(id, 0u);
  helper.run(approve(id));
  auto st = helper.wait();
  ASSERT_TRUE(st);
  EXPECT_TRUE(WIFEXITED(*st) && WEXITSTATUS(*st) == 0) << helper.output();
  auto rst = wait_status(req.shim, 10s);
  ASSERT_TRUE(rst);
  EXPECT_TRUE(WIFEXITED(*rst) && WEXITSTATUS(*rst) == 9);
  EXPECT_EQ(counter(*agent_, "auth_succeeded"), 0);
}

}  // namespace
}  // namespace cmdgate::test
