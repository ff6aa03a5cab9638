// A rule on a script holds however the script is reached: through the process's own descriptor
// (/proc/self/fd/N, execveat AT_EMPTY_PATH), inside a chroot or another mount namespace, or as
// the interpreter of another script. Where the daemon cannot tell which file ran, it decides
// as strictly as any rule could. Each route has a control.

#include <signal.h>
#include <sys/mount.h>
#include <sys/wait.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

#include "harness.h"

namespace cmdgate::test {
namespace {

using nlohmann::json;
using namespace std::chrono_literals;

std::string exec_via() { return CG_EXEC_VIA_PATH; }

// A script whose first action creates every file its arguments name that ends in ".marker"
// (a script run as another script's interpreter gets that script's path first).
void write_script(const std::string& path, const std::string& interpreter = "/bin/sh") {
  std::ofstream(path) << "#!" << interpreter
                      << "\nfor a; do case $a in *.marker) : > \"$a\";; esac; done\n";
  ::chmod(path.c_str(), 0755);
}

class ScriptIdentity : public MarkerTargetTest {
 protected:
  void SetUp() override {
    MarkerTargetTest::SetUp();
    script_ = work_->file("script.sh");
    write_script(script_);
    other_ = work_->file("other.sh");
    write_script(other_);
  }
  // Every route below, run against `script`; returns the markers that were created.
  std::vector<std::string> try_routes(const std::string& script) {
    std::vector<std::vector<std::string>> routes = {
        {"/bin/bash", "-c", "exec 3<\"$0\"; exec /proc/self/fd/3 \"$1\"", script, marker("procfd")},
        {"/bin/bash", "-c", "exec 3<\"$0\"; exec /dev/fd/3 \"$1\"", script, marker("devfd")},
        {exec_via(), "fd", script, marker("execveat")},
    };
    std::vector<std::string> ran;
    for (const auto& argv : routes) {
      const RunResult r = run(argv);
      if (exists(argv.back())) {
        ran.push_back(argv.back());
      }
      std::filesystem::remove(argv.back());
    }
    return ran;
  }
  std::string script_;
  std::string other_;
};

TEST_F(ScriptIdentity, ADeniedScriptReachedThroughADescriptorNeverRuns) {
  auto agent = Agent::start({deny_path_rules(script_)});
  ASSERT_TRUE(agent);
  EXPECT_EQ(try_routes(script_), std::vector<std::string>{});
  auto d = agent->wait_decision([&](const json& j) {
    return j.contains("script") && j["script"]["path"] == script_ && j["outcome"] == "denied";
  });
  ASSERT_TRUE(d) << agent->log_text();
  EXPECT_EQ((*d)["rule"], "deny-target");
  // Control: the same routes run a script no rule names.
  EXPECT_EQ(try_routes(other_).size(), 3u);
}

TEST_F(ScriptIdentity, AnAskScriptReachedThroughADescriptorWaits) {
  const std::string rules = fmt::format(R"(
default_action = "allow"
[[rule]]
id = "ask-script"
action = "ask"
path = "{}"
timeout = "1s"
timeout_action = "deny"
)",
                                        script_);
  auto agent = Agent::start({rules});
  ASSERT_TRUE(agent);
  EXPECT_EQ(try_routes(script_), std::vector<std::string>{});
  EXPECT_TRUE(agent->wait_decision(
      [&](const json& j) { return j["rule"] == "ask-script" && j["decided_by"] == "timeout"; }));
  EXPECT_EQ(try_routes(other_).size(), 3u);
}

// #!/path/to/denied.sh in a wrapper: the kernel runs the denied script as the wrapper's
// interpreter, and neither execve's name nor the final interpreter is the denied script.
TEST_F(ScriptIdentity, ADeniedScriptUsedAsAnotherScriptsInterpreterNeverRuns) {
  const std::string wrapper = work_->file("wrapper");
  write_script(wrapper, script_);
  const std::string control = work_->file("control-wrapper");
  write_script(control, other_);
  auto agent = Agent::start({deny_path_rules(script_)});
  ASSERT_TRUE(agent);
  const RunResult r = run({wrapper, marker("nested")});
  EXPECT_EQ(r.signal, SIGKILL);
  EXPECT_FALSE(exists(marker("nested")));
  auto d = agent->wait_decision(
      [&](const json& j) { return j.contains("script") && j["outcome"] == "denied"; });
  ASSERT_TRUE(d) << agent->log_text();
  EXPECT_EQ((*d)["script"]["chain"], json::array({wrapper, script_}));
  const RunResult ok = run({control, marker("nested-control")});
  EXPECT_EQ(ok.code, 0);
  EXPECT_TRUE(exists(marker("nested-control")));
}

// A mount namespace where the path names another file than in the daemon's.
TEST_F(ScriptIdentity, AScriptInAnotherMountNamespaceIsJudgedAsThatProcessSeesIt) {
  const std::string hidden = work_->file("hidden");
  const std::string mnt = work_->file("mnt");
  std::filesystem::create_directories(hidden);
  std::filesystem::create_directories(mnt);
  write_script(hidden + "/run.sh");
  write_script(mnt + "/run.sh");  // what the daemon's namespace shows at that path
  auto agent = Agent::start({deny_path_rules(hidden + "/run.sh")});
  ASSERT_TRUE(agent);
  const std::string inside = fmt::format("mount --bind '{}' '{}' && exec '{}/run.sh' '{}'", hidden,
                                         mnt, mnt, marker("ns"));
  const RunResult r = run({"/usr/bin/unshare", "-m", "--propagation", "private", "/bin/sh", "-c",
                           inside});
  EXPECT_NE(r.code, 0);
  EXPECT_FALSE(exists(marker("ns")));
  // Control: the file the daemon would have seen at that path is not denied.
  const RunResult ok = run({mnt + "/run.sh", marker("ns-control")});
  EXPECT_EQ(ok.code, 0);
  EXPECT_TRUE(exists(marker("ns-control")));
}

// A chroot: "/s" names the chroot's file for the process, another file for the daemon.
class ChrootScript : public ScriptIdentity {
 protected:
  void SetUp() override {
    ScriptIdentity::SetUp();
    root_ = work_->file("root");
    std::filesystem::create_directories(root_ + "/bin");
    copy_file("/bin/busybox", root_ + "/bin/sh");
    write_script(root_ + "/s");
    write_script(root_ + "/t");
  }
  std::string root_;
};

TEST_F(ChrootScript, AScriptInAChrootIsJudgedAsThatProcessSeesIt) {
  auto agent = Agent::start({deny_path_rules(root_ + "/s")});
  ASSERT_TRUE(agent);
  const RunResult r = run({"/usr/sbin/chroot", root_, "/s", "/m1.marker"});
  EXPECT_NE(r.code, 0);
  EXPECT_FALSE(exists(root_ + "/m1.marker"));
  const RunResult ok = run({"/usr/sbin/chroot", root_, "/t", "/m2.marker"});
  EXPECT_EQ(ok.code, 0);
  EXPECT_TRUE(exists(root_ + "/m2.marker"));
}

// A working directory outside the root (chroot without chdir): the daemon cannot say which file
// "./s" names for that process, so any rule that could match a script holds it; with none, it
// runs.
TEST_F(ChrootScript, AScriptTheDaemonCannotPlaceIsDecidedAsStrictlyAsAnyRuleCould) {
  {
    // A rule on some other script: an unplaced script could be that one.
    auto agent = Agent::start({deny_path_rules(other_)});
    ASSERT_TRUE(agent);
    std::filesystem::current_path(work_->path());  // outside the root it is about to enter
    const RunResult r = run({exec_via(), "chroot-here", root_, "./root/s", "/m3.marker"});
    std::filesystem::current_path("/");
    EXPECT_NE(r.code, 0);
    EXPECT_FALSE(exists(root_ + "/m3.marker"));
    auto d = agent->wait_decision([&](const json& j) { return j.contains("uncertain"); });
    ASSERT_TRUE(d) << agent->log_text();
    EXPECT_EQ((*d)["outcome"], "denied");
    EXPECT_EQ((*d)["unknown"], json::array({"file", "sha256"}));
  }
  auto agent = Agent::start({R"(
default_action = "allow"
[[rule]]
id = "args-only"
action = "deny"
args = "^--never$"
)"});
  ASSERT_TRUE(agent);
  std::filesystem::current_path(work_->path());
  const RunResult ok = run({exec_via(), "chroot-here", root_, "./root/s", "/m4.marker"});
  std::filesystem::current_path("/");
  EXPECT_EQ(ok.code, 0);
  EXPECT_TRUE(exists(root_ + "/m4.marker"));
}

}  // namespace
}  // namespace cmdgate::test
