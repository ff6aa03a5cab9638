#pragma once
// Runs the real cmdgated (BPF on this kernel) for a test: rules in a temporary directory,
// readiness and reloads through a NOTIFY_SOCKET of our own, decisions read from its JSON log.

#include <fmt/format.h>
#include <gtest/gtest.h>
#include <sys/types.h>

#include <chrono>
#include <functional>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "common/fd.h"
#include "processes.h"

namespace cmdgate::test {

// A test that needs what this host may lack (root and BPF, real accounts, mosquitto, a tool):
// `missing` says what is missing, or nullopt. Without it the test skips, or fails when CI=true.
#define CMDGATE_REQUIRE(missing)                                \
  do {                                                          \
    if (auto why = (missing)) {                                 \
      if (::cmdgate::test::in_ci()) {                           \
        FAIL() << "CI=true and this test cannot run: " << *why; \
      }                                                         \
      GTEST_SKIP() << *why;                                     \
    }                                                           \
  } while (0)

// Root and a loadable BPF exec hook.
#define CMDGATE_REQUIRE_ROOT_BPF() CMDGATE_REQUIRE(::cmdgate::test::missing_prerequisite())

bool in_ci();
std::optional<std::string> missing_prerequisite();

// A fresh work directory holding `target`, a copy of the marker program (tests/root/marker.cpp)
// that rules can name without touching any other program on the host.
class MarkerTargetTest : public ::testing::Test {
 protected:
  void SetUp() override;
  [[nodiscard]] std::string marker(const std::string& name) const {
    return work_->file(name + ".marker");
  }

  std::unique_ptr<TempDir> work_;
  std::string target_;
};

struct RunResult {
  bool exited = false;
  int code = -1;
  int signal = 0;
  std::string out;
};

// fork + execv; stdout captured; waits up to timeout, then kills and reports signal 9.
RunResult run(const std::vector<std::string>& argv,
              std::chrono::milliseconds timeout = std::chrono::seconds(20));

// waitpid with a timeout; nullopt on timeout.
std::optional<int> wait_status(pid_t pid, std::chrono::milliseconds timeout);
// Process state letter from /proc/<pid>/stat ('T' stopped, 'Z' zombie, ...), or '?' when gone.
char process_state(pid_t pid);
bool wait_for(const std::function<bool()>& pred, std::chrono::milliseconds timeout);

std::string marker_path();  // the test program that creates argv[1] as its first action
std::string cmdgated_path();
std::string cli_path();                          // the operator's CLI, cmdgate
std::string read_pack(const std::string& name);  // a shipped rule pack, rules/NAME
bool exists(const std::string& path);
void copy_file(const std::string& from, const std::string& to, mode_t mode = 0755);
std::string sha256_hex(const std::string& path);
// `cmdgated --uninstall --pin-dir dir` (with the daemon binary given, else the built one);
// returns its exit status.
int uninstall(const std::string& pin_dir, const std::string& binary = "");
// Rules that allow everything but kill `path` (rule id "deny-target"); `extra` is appended.
std::string deny_path_rules(const std::string& path, const std::string& extra = "");
// Rules that allow everything but hold `path` for a person (rule id "ask-target"); `extra` is
// appended to the rule.
std::string ask_path_rules(const std::string& path, const std::string& timeout = "60s",
                           const std::string& extra = "");

class Agent {
 public:
  struct Options {
    Options(std::string r, std::vector<std::string> a = {}, bool wait = true)
        : rules(std::move(r)), args(std::move(a)), wait_ready(wait) {}
    std::string rules;              // contents of rules.toml
    std::vector<std::string> args;  // extra cmdgated flags
    bool wait_ready = true;
    // Extra environment, NAME=VALUE; "{pid}" in a value becomes the daemon's pid.
    std::vector<std::string> env;
    // Runs cmdgated through this command (e.g. a sandbox), which must exec its arguments.
    std::vector<std::string> wrapper;
    // bpffs state to adopt (a crashed predecessor's, Agent::pin_dir()); empty: a fresh one.
    std::string pin_dir;
    // The daemon's executable; empty: the one built with the tests.
    std::string binary;
  };
  static std::unique_ptr<Agent> start(const Options& options);
  ~Agent();

  const TempDir& dir() const { return dir_; }
  pid_t pid() const { return pid_; }
  std::string rules_path() const { return dir_.file("rules.toml"); }
  std::string socket_path() const { return dir_.file("cmdgate.sock"); }
  void write_rules(const std::string& toml) const;
  // SIGHUP and wait until the daemon reports READY again; returns its STATUS text.
  std::string reload();
  std::vector<nlohmann::json> decisions() const;
  // The first decision satisfying pred within the timeout.
  std::optional<nlohmann::json> wait_decision(
      const std::function<bool(const nlohmann::json&)>& pred,
      std::chrono::milliseconds timeout = std::chrono::seconds(10)) const;
  std::string log_text() const;
  // SIGTERM and wait, then `cmdgated --uninstall` of its pinned state; returns the exit status
  // of the daemon (or -1).
  int stop(std::chrono::milliseconds timeout = std::chrono::seconds(20));
  // SIGKILL and wait, leaving the pinned state (and the kernel enforcing it) behind, as a crash
  // does; the Agent's directory stays for a successor started with this pin_dir().
  void crash();
  const std::string& pin_dir() const { return pin_dir_; }
  bool running() const { return pid_ > 0; }
  // Whether the daemon process still exists (reaps it when it has exited).
  bool alive();
  // Waits for the next sd_notify datagram containing text.
  std::optional<std::string> wait_notify(const std::string& text,
                                         std::chrono::milliseconds timeout);
  // The next sd_notify datagram, whatever it says.
  std::optional<std::string> next_notify(std::chrono::milliseconds timeout);

 private:
  Agent() = default;
  TempDir dir_;
  bool owns_pins_ = true;  // uninstalls them when it stops, if it ever became ready
  bool ready_ = false;
  std::string binary_;
  std::string pin_dir_;
  pid_t pid_ = -1;
  Fd notify_;
};

}  // namespace cmdgate::test
