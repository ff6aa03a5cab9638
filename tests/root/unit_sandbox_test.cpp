// The daemon inside the sandbox of systemd/cmdgated.service, built from the unit file itself by
// cg_unit_sandbox (capability bounding set, no new privileges, the system call filter, address
// families, W^X, a read-only file system but for the unit's writable paths): it must start,
// enforce on other users' processes, reload and stop as it does unconfined. The test's own
// directory is made writable too, for the decision log.

#include <fcntl.h>
#include <grp.h>
#include <pwd.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <fstream>
#include <map>
#include <sstream>

#include "harness.h"

namespace cmdgate::test {
namespace {

using nlohmann::json;
using namespace std::chrono_literals;

const std::string kUnit = CMDGATE_SOURCE_DIR "/systemd/cmdgated.service";

// "Key:\tvalue" from /proc/<pid>/status.
std::string status_field(pid_t pid, const std::string& key) {
  std::ifstream f("/proc/" + std::to_string(pid) + "/status");
  std::string line;
  while (std::getline(f, line)) {
    if (line.starts_with(key + ":")) {
      return line.substr(line.find_first_not_of(" \t", key.size() + 1));
    }
  }
  return "";
}

// The capability mask the unit's CapabilityBoundingSet= names.
uint64_t unit_capability_mask() {
  const std::map<std::string, int> bits = {{"CAP_DAC_READ_SEARCH", 2}, {"CAP_KILL", 5},
                                           {"CAP_SYS_PTRACE", 19},     {"CAP_SYS_ADMIN", 21},
                                           {"CAP_PERFMON", 38},        {"CAP_BPF", 39}};
  std::ifstream f(kUnit);
  std::string line;
  uint64_t mask = 0;
  while (std::getline(f, line)) {
    if (line.starts_with("CapabilityBoundingSet=")) {
      std::istringstream names(line.substr(line.find('=') + 1));
      for (std::string n; names >> n;) {
        EXPECT_TRUE(bits.contains(n)) << "add " << n << " to this test's table";
        mask |= uint64_t{1} << bits.at(n);
      }
    }
  }
  return mask;
}

// Runs argv as nobody; returns the wait status.
int run_as_nobody(const std::vector<std::string>& argv) {
  const pid_t pid = ::fork();
  if (pid == 0) {
    const int null = ::open("/dev/null", O_WRONLY);
    ::dup2(null, 1);
    const passwd* pw = ::getpwnam("nobody");
    if (pw == nullptr || ::setgroups(0, nullptr) != 0 ||
        ::setresgid(pw->pw_gid, pw->pw_gid, pw->pw_gid) != 0 ||
        ::setresuid(pw->pw_uid, pw->pw_uid, pw->pw_uid) != 0) {
      ::_exit(126);
    }
    exec_argv(argv);
  }
  return wait_status(pid, 10s).value_or(-1);
}

TEST(UnitSandbox, DaemonEnforcesInsideTheUnitsSandbox) {
  CMDGATE_REQUIRE_ROOT_BPF();
  TempDir work;
  const std::string out = work.file("out");
  ASSERT_EQ(::mkdir(out.c_str(), 01777), 0);
  ::chmod(out.c_str(), 01777);
  const std::string denied = work.file("denied");
  const std::string evaluated = work.file("evaluated");
  copy_file(marker_path(), denied);
  copy_file(marker_path(), evaluated);
  const std::string rules = fmt::format(R"(
default_action = "audit"
[[rule]]
id = "kernel-deny"
action = "deny"
path = "{}"
[[rule]]
id = "daemon-deny"
action = "deny"
path = "{}"
args = '^--bad$'
)",
                                        denied, evaluated);
  Agent::Options o{rules};
  o.wrapper = {CG_UNIT_SANDBOX_PATH, kUnit, "--rw", "/tmp", "--"};
  auto agent = Agent::start(o);
  ASSERT_TRUE(agent);

  // The sandbox is in place: the unit's bounding set, no new privileges, a seccomp filter.
  EXPECT_EQ(std::stoull(status_field(agent->pid(), "CapBnd"), nullptr, 16), unit_capability_mask());
  EXPECT_EQ(status_field(agent->pid(), "NoNewPrivs"), "1");
  EXPECT_EQ(status_field(agent->pid(), "Seccomp"), "2");

  // Killed in the kernel, killed by the daemon, resumed by the daemon: all another user's.
  int st = run_as_nobody({denied, out + "/k"});
  EXPECT_TRUE(WIFSIGNALED(st) && WTERMSIG(st) == SIGKILL) << st;
  st = run_as_nobody({evaluated, out + "/d", "--bad"});
  EXPECT_TRUE(WIFSIGNALED(st) && WTERMSIG(st) == SIGKILL) << st << "\n" << agent->log_text();
  st = run_as_nobody({evaluated, out + "/r", "--good", "3"});
  EXPECT_TRUE(WIFEXITED(st) && WEXITSTATUS(st) == 3) << st << "\n" << agent->log_text();
  EXPECT_FALSE(exists(out + "/k"));
  EXPECT_FALSE(exists(out + "/d"));
  EXPECT_TRUE(exists(out + "/r"));
  auto d = agent->wait_decision([](const json& j) { return j["rule"] == "daemon-deny"; });
  ASSERT_TRUE(d) << agent->log_text();
  EXPECT_EQ((*d)["outcome"], "denied");

  EXPECT_EQ(agent->reload().find("reload failed"), std::string::npos) << agent->log_text();
  const int status = agent->stop();
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << status << agent->log_text();
  // No EPERM from the sandbox (seccomp, capabilities). The BPF LSM probe's refusal on kernels
  // without BPF LSM is expected and says so.
  std::istringstream log(agent->log_text());
  for (std::string line; std::getline(log, line);) {
    if (line.find("BPF LSM not used") == std::string::npos &&
        line.find("loading the LSM programs") == std::string::npos) {
      EXPECT_EQ(line.find("Operation not permitted"), std::string::npos) << line;
    }
  }
}

}  // namespace
}  // namespace cmdgate::test
