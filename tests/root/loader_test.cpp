// The dynamic loader runs anything it is told to: `ld.so PROGRAM` is an exec of ld.so, and the
// program it maps is judged as if it had been executed (identity, content, argv), whatever the
// loader is called and however the program is named. Each route has a control.

#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include "harness.h"

namespace cmdgate::test {
namespace {

using nlohmann::json;
using namespace std::chrono_literals;

constexpr const char* kLoader = "/lib64/ld-linux-x86-64.so.2";

class Loader : public MarkerTargetTest {};

TEST_F(Loader, ADeniedProgramRunByTheLoaderNeverRuns) {
  auto agent = Agent::start({deny_path_rules(target_)});
  ASSERT_TRUE(agent);
  const RunResult r = run({kLoader, target_, marker("loaded"), "hello"});
  EXPECT_EQ(r.signal, SIGKILL);
  EXPECT_FALSE(exists(marker("loaded")));
  auto d = agent->wait_decision(
      [&](const json& j) { return j.contains("loaded") && j["outcome"] == "denied"; });
  ASSERT_TRUE(d) << agent->log_text();
  EXPECT_EQ((*d)["rule"], "deny-target");
  EXPECT_EQ((*d)["loaded"]["path"], target_);
  EXPECT_EQ((*d)["loaded"]["argv"], json::array({target_, marker("loaded"), "hello"}));
  EXPECT_EQ((*d)["flags"], json::array({"parked", "no_interp"}));
}

TEST_F(Loader, LoaderOptionsAndACopiedLoaderDoNotHelp) {
  const std::string copy = work_->file("myld");
  copy_file(kLoader, copy);
  // By content: the rule names the program's sha256, the loader is a copy nobody named.
  const std::string rules = deny_path_rules("/nonexistent/never", fmt::format(R"([[rule]]
id = "deny-content"
action = "deny"
sha256 = "{}")",
                                                                             sha256_hex(target_)));
  auto agent = Agent::start({rules});
  ASSERT_TRUE(agent);
  const std::vector<std::vector<std::string>> routes = {
      {copy, target_, marker("copy")},
      {kLoader, "--inhibit-cache", "--argv0", "innocent", target_, marker("options")},
  };
  for (const auto& argv : routes) {
    SCOPED_TRACE(argv[argv.size() - 1]);
    const RunResult r = run(argv);
    EXPECT_EQ(r.signal, SIGKILL);
    EXPECT_FALSE(exists(argv.back()));
  }
}

TEST_F(Loader, AnAskProgramRunByTheLoaderWaitsForAPerson) {
  auto agent = Agent::start({ask_path_rules(target_)});
  ASSERT_TRUE(agent);
  const pid_t pid = spawn({kLoader, target_, marker("asked")});
  auto parked = agent->wait_decision(
      [&](const json& j) { return j["tgid"] == pid && j["outcome"] == "parked"; });
  ASSERT_TRUE(parked) << agent->log_text();
  EXPECT_EQ((*parked)["rule"], "ask-target");
  EXPECT_EQ(process_state(pid), 'T');
  EXPECT_FALSE(exists(marker("asked")));
  agent->stop();  // nobody answered: on_shutdown = deny
  auto st = wait_status(pid, 10s);
  ASSERT_TRUE(st);
  EXPECT_TRUE(WIFSIGNALED(*st) && WTERMSIG(*st) == SIGKILL);
  EXPECT_FALSE(exists(marker("asked")));
}

// Controls: with no rule holding the program, each route runs it; so does a static-pie program
// and the loader's own --help, which load nothing.
TEST_F(Loader, EveryRouteRunsTheProgramWhenNoRuleHoldsIt) {
  const std::string copy = work_->file("myld");
  copy_file(kLoader, copy);
  auto agent = Agent::start({deny_path_rules("/nonexistent/never", R"([[rule]]
id = "never-content"
action = "deny"
sha256 = "0000000000000000000000000000000000000000000000000000000000000000")")});
  ASSERT_TRUE(agent);
  for (const auto& argv : std::vector<std::vector<std::string>>{
           {kLoader, target_, marker("c1")},
           {copy, target_, marker("c2")},
           {kLoader, "--argv0", "x", target_, marker("c3")}}) {
    SCOPED_TRACE(argv.back());
    const RunResult r = run(argv);
    EXPECT_TRUE(r.exited && r.code == 0) << r.signal;
    EXPECT_TRUE(exists(argv.back()));
  }
  EXPECT_EQ(run({kLoader, "--help"}).code, 0);
  EXPECT_EQ(run({"/sbin/ldconfig", "-p"}).code, 0);
}

}  // namespace
}  // namespace cmdgate::test
