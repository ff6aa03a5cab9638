// Issue 14: the kernel labels a declared agent's process, and every process it starts at any
// depth, through reparenting, setsid and daemonizing; `agent` rules hold those processes and
// nobody else's. The agent here is a copy of bash in the test's directory, declared by path, so
// no other process on this shared host is labelled; the held program is the marker (its first
// action creates the file it is given: a marker file that never appears proves it never ran).

#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <fstream>
#include <sstream>

#include "harness.h"

namespace cmdgate::test {
namespace {

using nlohmann::json;
using namespace std::chrono_literals;

class AgentLabel : public MarkerTargetTest {
 protected:
  void SetUp() override {
    MarkerTargetTest::SetUp();
    if (IsSkipped() || HasFatalFailure()) {
      return;
    }
    agent_sh_ = work_->file("agentsh");
    copy_file("/bin/bash", agent_sh_);
  }

  std::string rules() const {
    return fmt::format(R"(default_action = "allow"
ask_timeout = "60s"

[[agent]]
name = "testagent"
path = "{}"

[[rule]]
id = "agent-target"
action = "ask"
agent = "*"
path = "{}"
)",
                       agent_sh_, target_);
  }

  // The decision for the exec of the target that creates `name`'s marker.
  std::optional<json> decision_for(const Agent& agent, const std::string& name,
                                   std::chrono::milliseconds timeout = 10s) const {
    const std::string m = marker(name);
    return agent.wait_decision(
        [&](const json& j) {
          return j.contains("argv") && j["argv"].size() > 1 && j["argv"][1] == m;
        },
        timeout);
  }

  // Runs `script` in the agent (bash -c); returns the agent's exit status. Its output goes
  // nowhere: a held descendant would keep run()'s pipe open until the timeout.
  int in_agent(const std::string& script) const {
    const RunResult r = run({agent_sh_, "-c", "exec >/dev/null 2>&1; " + script});
    return r.exited ? r.code : -1;
  }

  std::string agent_sh_;
};

TEST_F(AgentLabel, EveryDescendantOfAnAgentCarriesItsLabelAndIsHeld) {
  auto agent = Agent::start({rules()});
  ASSERT_TRUE(agent);

  // The control: the same program, run by a process no agent started, runs at once.
  const RunResult control = run({target_, marker("control")});
  EXPECT_TRUE(control.exited && control.code == 0);
  EXPECT_TRUE(exists(marker("control")));

  // 20 nested forks, each parent exiting before its child goes on: every level is reparented.
  const std::string t = target_;
  EXPECT_EQ(in_agent(fmt::format("f() {{ if [ $1 -eq 0 ]; then exec {} {}; fi; "
                                 "( f $(($1 - 1)) & ); }}; f 20",
                                 t, marker("nested"))),
            0);
  // A new session, its parent gone before it execs.
  EXPECT_EQ(in_agent(fmt::format("setsid /bin/sh -c 'sleep 0.3; exec {} {}' & exit 0", t,
                                 marker("setsid"))),
            0);
  // A daemon: double fork, setsid, cwd /, no descriptors of its parent's.
  EXPECT_EQ(in_agent(fmt::format("( setsid /bin/sh -c '( cd / && exec {} {} </dev/null "
                                 ">/dev/null 2>&1 ) &' & ); exit 0",
                                 t, marker("daemon"))),
            0);

  std::vector<pid_t> held;
  for (const char* name : {"nested", "setsid", "daemon"}) {
    SCOPED_TRACE(name);
    const auto d = decision_for(*agent, name);
    ASSERT_TRUE(d) << agent->log_text();
    EXPECT_EQ((*d)["outcome"], "parked");
    EXPECT_EQ((*d)["rule"], "agent-target");
    EXPECT_EQ((*d)["agent_label"], 1);
    const pid_t pid = (*d)["tgid"].get<pid_t>();
    EXPECT_TRUE(wait_for([&] { return process_state(pid) == 'T'; }, 5s))
        << "state " << process_state(pid);
    EXPECT_FALSE(exists(marker(name)));
    held.push_back(pid);
  }
  // The control went through the kernel alone: no record of it ever reached the daemon.
  EXPECT_FALSE(decision_for(*agent, "control", 1s));

  // Nobody answers: stopping the daemon settles the held processes (on_shutdown = deny).
  EXPECT_EQ(agent->stop(), 0);
  for (pid_t pid : held) {
    EXPECT_TRUE(wait_for([&] { return process_state(pid) == '?'; }, 5s)) << pid;
  }
  for (const char* name : {"nested", "setsid", "daemon"}) {
    EXPECT_FALSE(exists(marker(name))) << name;
  }
}

// A process forked before the daemon started has no label of its own: the kernel establishes it
// from its living ancestry the first time it forks or execs.
TEST_F(AgentLabel, AProcessOlderThanTheDaemonIsLabelledFromItsAncestry) {
  // The agent's child (a plain sh, forked before the daemon) waits for the daemon, forks once
  // more and then starts the target. `; exit $?` keeps bash from exec'ing sh in its own place.
  const std::string go = work_->file("go");
  const pid_t early = spawn(
      {agent_sh_, "-c",
       fmt::format("/bin/sh -c 'while [ ! -e {} ]; do sleep 0.05; done; /bin/true; exec {} {}'; "
                   "exit $?",
                   go, target_, marker("early"))});
  ASSERT_GT(early, 0);
  auto agent = Agent::start({rules()});
  ASSERT_TRUE(agent);
  std::ofstream(go).put('1');
  const auto d = decision_for(*agent, "early");
  ASSERT_TRUE(d) << agent->log_text();
  EXPECT_EQ((*d)["outcome"], "parked");
  EXPECT_EQ((*d)["agent_label"], 1);
  EXPECT_FALSE(exists(marker("early")));
  EXPECT_EQ(agent->stop(), 0);
  const auto st = wait_status(early, 5s);
  ASSERT_TRUE(st);
  EXPECT_TRUE(WIFEXITED(*st) && WEXITSTATUS(*st) == 128 + SIGKILL) << *st;  // sh was killed
  EXPECT_FALSE(exists(marker("early")));
}

// Issue 14: with the ai-agents pack on, git, bash and rm run by a process no agent started are
// decided in the kernel (no record at all reaches the daemon); from an agent's tree they go to
// the daemon. This host is shared, so every rule is narrowed to a uid no one uses
// (`user = 64123`, as in rule_packs_test.cpp): nothing is held, only routed.
TEST_F(AgentLabel, TheAgentsPackLeavesExecsOutsideAnAgentsTreeInTheKernel) {
  std::string pack;
  std::istringstream in(read_pack("ai-agents.toml"));
  for (std::string line; std::getline(in, line);) {
    pack += line + "\n";
    if (line == "[[rule]]") {
      pack += "user = 64123\n";
    }
  }
  const std::string declared = work_->file("testagent.toml");
  std::ofstream(declared) << fmt::format("[[agent]]\nname = \"testagent\"\npath = \"{}\"\n",
                                         agent_sh_);
  auto agent = Agent::start({pack, {"--rules", declared}});
  ASSERT_TRUE(agent);

  const auto commands = [](const std::string& tag) {
    return std::vector<std::vector<std::string>>{
        {"/usr/bin/git", "-c", "cmdgate.tag=" + tag, "--version"},
        {"/bin/bash", "-c", "true " + tag},
        {"/bin/rm", "-f", "/nonexistent/" + tag}};
  };
  const auto has_tag = [](const json& j, const std::string& tag) {
    return j.contains("argv") && j["argv"].dump().find(tag) != std::string::npos;
  };
  for (const auto& argv : commands("outside")) {
    const RunResult r = run(argv);
    EXPECT_TRUE(r.exited && r.code == 0) << argv[0];
  }
  for (const auto& argv : commands("inside")) {
    std::string line;
    for (const auto& a : argv) {
      line += "'" + a + "' ";
    }
    EXPECT_EQ(in_agent(line + "; exit $?"), 0) << line;
    const auto d = agent->wait_decision([&](const json& j) { return has_tag(j, "inside") &&
                                                                 j["argv"][0] == argv[0]; });
    ASSERT_TRUE(d) << argv[0] << "\n" << agent->log_text();
    EXPECT_EQ((*d)["kernel_verdict"], "evaluate") << argv[0];
    EXPECT_EQ((*d)["outcome"], "allowed") << argv[0];
    EXPECT_NE((*d).value("agent_label", 0), 0) << argv[0];
  }
  // The records of the agent's execs have been read; none of the others ever existed. Stopped,
  // the daemon has written every line it had.
  EXPECT_EQ(agent->stop(), 0);
  for (const auto& j : agent->decisions()) {
    EXPECT_FALSE(has_tag(j, "outside")) << j.dump();
  }
}

// A copy of a held tool is that tool inside an agent's tree: the kernel sends an agent's first
// exec of a file it has no verdict for to the daemon, which compares its content with every file
// an agent rule names by exact path. The same copy run outside the tree is judged as itself, and
// a program that is no copy goes to the daemon once, then stays in the kernel.
TEST_F(AgentLabel, ACopyOfAHeldToolIsThatToolInsideAnAgentsTree) {
  auto agent = Agent::start({rules()});
  ASSERT_TRUE(agent);
  const std::string copy = work_->file("renamed-copy");
  copy_file(target_, copy);

  // The control: the copy, run by a process no agent started, runs without the daemon.
  const RunResult control = run({copy, marker("control")});
  EXPECT_TRUE(control.exited && control.code == 0);
  EXPECT_TRUE(exists(marker("control")));

  EXPECT_EQ(in_agent(fmt::format("{} {} & exit 0", copy, marker("copy"))), 0);
  const auto d = decision_for(*agent, "copy");
  ASSERT_TRUE(d) << agent->log_text();
  EXPECT_EQ((*d)["outcome"], "parked");
  EXPECT_EQ((*d)["rule"], "agent-target");
  EXPECT_EQ((*d).value("copy_of", ""), target_);
  const pid_t pid = (*d)["tgid"].get<pid_t>();
  EXPECT_TRUE(wait_for([&] { return process_state(pid) == 'T'; }, 5s))
      << "state " << process_state(pid);
  EXPECT_FALSE(exists(marker("copy")));

  const std::string other = work_->file("other");
  copy_file("/usr/bin/touch", other);
  for (const char* name : {"other1", "other2"}) {
    EXPECT_EQ(in_agent(fmt::format("{} {}", other, marker(name))), 0);
    EXPECT_TRUE(exists(marker(name))) << name;
  }
  const auto first = decision_for(*agent, "other1");
  ASSERT_TRUE(first) << agent->log_text();
  EXPECT_EQ((*first)["outcome"], "allowed");
  EXPECT_FALSE((*first).contains("copy_of"));
  const auto second = decision_for(*agent, "other2", 1s);
  EXPECT_FALSE(second) << "learned after its first exec: " << second->dump();
  EXPECT_FALSE(decision_for(*agent, "control", 1s));

  EXPECT_EQ(agent->stop(), 0);
  EXPECT_TRUE(wait_for([&] { return process_state(pid) == '?'; }, 5s));
  EXPECT_FALSE(exists(marker("copy")));
}

}  // namespace
}  // namespace cmdgate::test
