// Approvals that mean what was approved (issue 13): a `similar` grant covers the same version of
// the same files run with the same argv in the same directory, and nothing else; a `permanent`
// rule pins the file's SHA-256 next to its path, so a file put at that path later is asked about
// again. Root approves root's commands here: no password is involved.

#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include <filesystem>
#include <fstream>

#include "approval_kit.h"

namespace cmdgate::test {
namespace {

using nlohmann::json;
using namespace std::chrono_literals;

class ApprovalIdentity : public MarkerTargetTest {
 protected:
  void SetUp() override {
    MarkerTargetTest::SetUp();
    if (IsSkipped() || HasFatalFailure()) {
      return;
    }
    here_ = work_->file("here");
    elsewhere_ = work_->file("elsewhere");
    std::filesystem::create_directory(here_);
    std::filesystem::create_directory(elsewhere_);
  }

  // Runs argv in cwd; true when it was parked for a decision (it is then killed), false when it
  // ran without one. `code`: its exit status when it ran.
  bool asks(const std::vector<std::string>& argv, const std::string& cwd, int* code = nullptr) {
    const Requester r = spawn_requester(argv, cwd);
    std::optional<int> status;
    bool parked = false;
    wait_for(
        [&] {
          if (auto st = wait_status(r.shim, 0ms)) {
            status = st;
            return true;
          }
          for (const auto& p : pending(*agent_)) {
            parked = parked || p["pid"] == r.target;
          }
          return parked;
        },
        10s);
    if (!status) {
      ::kill(r.target, SIGKILL);
      ::waitpid(r.shim, nullptr, 0);
      return parked;
    }
    if (code != nullptr) {
      *code = WIFEXITED(*status) ? WEXITSTATUS(*status) : -1;
    }
    return false;
  }
  // Parks argv in cwd and approves it with `scope`; its exit status.
  int approve_first(const std::vector<std::string>& argv, const std::string& cwd,
                    std::vector<std::string> scope) {
    const Requester r = spawn_requester(argv, cwd);
    const auto id = wait_pending(*agent_, r.target);
    EXPECT_TRUE(id) << agent_->log_text();
    if (!id) {
      return -1;
    }
    std::vector<std::string> cmd = {cli_path(), "approve", std::to_string(*id), "--socket",
                                    agent_->socket_path()};
    cmd.insert(cmd.end(), scope.begin(), scope.end());
    const RunResult ok = run(cmd);
    EXPECT_EQ(ok.code, 0) << ok.out << agent_->log_text();
    const auto st = wait_status(r.shim, 10s);
    return st && WIFEXITED(*st) ? WEXITSTATUS(*st) : -1;
  }

  std::string here_;
  std::string elsewhere_;
  std::unique_ptr<Agent> agent_;
};

const std::vector<std::string> kSimilar = {"--scope", "similar", "--minutes", "5"};

TEST_F(ApprovalIdentity, ASimilarGrantDoesNotCoverAnotherWorkingDirectory) {
  agent_ = Agent::start({ask_path_rules(target_)});
  ASSERT_TRUE(agent_);
  const std::vector<std::string> argv = {target_, "", "", "3"};
  EXPECT_EQ(approve_first(argv, here_, kSimilar), 3);
  int code = -1;
  EXPECT_FALSE(asks(argv, here_, &code));
  EXPECT_EQ(code, 3);
  EXPECT_TRUE(agent_->wait_decision([](const json& j) { return j["decided_by"] == "grant"; }));
  EXPECT_TRUE(asks(argv, elsewhere_));
}

TEST_F(ApprovalIdentity, ASimilarGrantDoesNotCoverAChangedBinary) {
  agent_ = Agent::start({ask_path_rules(target_)});
  ASSERT_TRUE(agent_);
  const std::vector<std::string> argv = {target_, "", "", "3"};
  EXPECT_EQ(approve_first(argv, here_, kSimilar), 3);
  EXPECT_FALSE(asks(argv, here_));
  // The same inode, written to: a rebuilt program keeps its path and often its inode.
  std::ofstream(target_, std::ios::app) << '\0';
  EXPECT_TRUE(asks(argv, here_));
}

TEST_F(ApprovalIdentity, ASimilarGrantDoesNotCoverAnEditedScript) {
  const std::string script = work_->file("job.sh");
  std::ofstream(script) << "#!/bin/sh\nexit 4\n";
  ::chmod(script.c_str(), 0755);
  agent_ = Agent::start({ask_path_rules(script)});
  ASSERT_TRUE(agent_);
  EXPECT_EQ(approve_first({script}, here_, kSimilar), 4);
  int code = -1;
  EXPECT_FALSE(asks({script}, here_, &code));
  EXPECT_EQ(code, 4);
  // Edited in place: the same file, another command.
  std::ofstream(script, std::ios::app) << "# edited\n";
  EXPECT_TRUE(asks({script}, here_));
}

TEST_F(ApprovalIdentity, APermanentRuleDoesNotCoverAReplacedFile) {
  const std::string local = work_->file("90-local.toml");
  std::ofstream(local) << "# approvals\n";
  agent_ = Agent::start({ask_path_rules(target_), {"--rules", local, "--local-rules-file", local}});
  ASSERT_TRUE(agent_);
  const std::vector<std::string> argv = {target_, "", "", "5"};
  const std::string digest = sha256_hex(target_);
  EXPECT_EQ(approve_first(argv, here_, {"--scope", "permanent"}), 5);
  std::ifstream f(local);
  const std::string text((std::istreambuf_iterator<char>(f)), std::istreambuf_iterator<char>());
  EXPECT_NE(text.find("sha256 = '" + digest + "'"), std::string::npos) << text;
  ASSERT_TRUE(wait_for(
      [&] { return agent_->log_text().find("generation 2 in force") != std::string::npos; }, 5s));
  // The rule holds anywhere: permanent approvals are not tied to a directory.
  int code = -1;
  EXPECT_FALSE(asks(argv, elsewhere_, &code));
  EXPECT_EQ(code, 5);
  // Another program put at the path: the path rule follows it, the allow does not.
  const std::string next = work_->file("target.new");
  copy_file(marker_path(), next);
  std::ofstream(next, std::ios::app) << "another build";
  std::filesystem::rename(next, target_);
  ASSERT_TRUE(wait_for(
      [&] { return agent_->log_text().find("generation 3 in force") != std::string::npos; }, 5s))
      << agent_->log_text();
  EXPECT_TRUE(asks(argv, here_));
}

TEST_F(ApprovalIdentity, APermanentRuleForAScriptPinsTheScript) {
  const std::string script = work_->file("job.sh");
  std::ofstream(script) << "#!/bin/sh\nexit 6\n";
  ::chmod(script.c_str(), 0755);
  const std::string local = work_->file("90-local.toml");
  std::ofstream(local) << "# approvals\n";
  agent_ = Agent::start({ask_path_rules(script), {"--rules", local, "--local-rules-file", local}});
  ASSERT_TRUE(agent_);
  const std::string digest = sha256_hex(script);
  EXPECT_EQ(approve_first({script}, here_, {"--scope", "permanent"}), 6);
  std::ifstream f(local);
  const std::string text((std::istreambuf_iterator<char>(f)), std::istreambuf_iterator<char>());
  EXPECT_NE(text.find("sha256 = '" + digest + "'"), std::string::npos) << text;
  EXPECT_NE(text.find("path = '" + script + "'"), std::string::npos) << text;
  ASSERT_TRUE(wait_for(
      [&] { return agent_->log_text().find("generation 2 in force") != std::string::npos; }, 5s));
  int code = -1;
  EXPECT_FALSE(asks({script}, here_, &code));
  EXPECT_EQ(code, 6);
  std::ofstream(script, std::ios::app) << "# edited\n";
  EXPECT_TRUE(asks({script}, here_));
}

}  // namespace
}  // namespace cmdgate::test
