#pragma once
// What the approval tests beyond approval_test.cpp share: requesters started outside the test's
// tree (as root or as a test user, in a working directory of their choice), the pending list and
// counters, a real local account with a known password, and the cmdgate CLI run as that account
// with or without a terminal.

#include <sys/types.h>

#include <chrono>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "harness.h"

namespace cmdgate::test {

// Authentication needs real accounts and pam_unix.
#define CMDGATE_REQUIRE_AUTH() CMDGATE_REQUIRE(::cmdgate::test::missing_auth_prerequisite())

std::optional<std::string> missing_auth_prerequisite();


// `cmdgate pending --json` as root.
nlohmann::json pending(const Agent& agent);
std::optional<uint64_t> wait_pending(const Agent& agent, pid_t pid);
// A counter of `cmdgate status --json`; -1 when it is not there.
int64_t counter(const Agent& agent, const std::string& name);

// Whom a process runs as. An empty name is root, as the test is.
struct Identity {
  std::string name;
  uid_t uid = 0;
  gid_t gid = 0;
};

// A requester outside the test's tree: a shim starts a session of its own, becomes `who`, enters
// `cwd` and forks the program; it then exits with the program's status, or dies of its signal.
struct Requester {
  pid_t shim = -1;
  pid_t target = -1;
};
Requester spawn_requester(const std::vector<std::string>& argv, const std::string& cwd = "/",
                          const Identity& who = {});

// A local account with a known password, a member of `group` (created for it); both are removed
// when it goes, and accounts a killed earlier run left behind are removed on the first create.
class TestUser {
 public:
  [[nodiscard]] static std::unique_ptr<TestUser> create();
  ~TestUser();
  const Identity& id() const { return id_; }
  const std::string& password() const { return password_; }
  const std::string& group() const { return group_; }

 private:
  TestUser() = default;
  Identity id_;
  std::string password_;
  std::string group_;
};

// /etc/pam.d/cmdgate as shipped (packaging/pam.d/cmdgate) for as long as it lives, unless the
// host has one of its own.
class PamService {
 public:
  PamService();
  ~PamService();

 private:
  bool installed_ = false;
};

// A program run as `who` in a session of its own whose controlling terminal is a new
// pseudo-terminal: what a person at a terminal runs.
class OnTerminal {
 public:
  OnTerminal(const std::vector<std::string>& argv, const Identity& who);
  ~OnTerminal();
  // Reads until what was shown holds `text` `count` times.
  bool read_until(const std::string& text, size_t count = 1,
                  std::chrono::milliseconds timeout = std::chrono::seconds(10));
  bool type(const std::string& line);
  // Its exit status, once it has ended; what it shows meanwhile is read.
  std::optional<int> wait(std::chrono::milliseconds timeout = std::chrono::seconds(20));
  const std::string& shown() const { return shown_; }

 private:
  void read_some(int timeout_ms);
  pid_t pid_ = -1;
  Fd master_;
  std::string shown_;
};

// A process of `who` started now, in a session of its own, with no terminal: the helper an agent
// left running outside its tree. It waits until told what to run.
class DetachedHelper {
 public:
  explicit DetachedHelper(const Identity& who);
  ~DetachedHelper();
  void run(const std::vector<std::string>& argv);
  // Its exit status and what it wrote (stdout and stderr).
  std::optional<int> wait(std::chrono::milliseconds timeout = std::chrono::seconds(20));
  const std::string& output() const { return output_; }
  pid_t pid() const { return pid_; }

 private:
  pid_t pid_ = -1;
  Fd commands_;
  Fd out_;
  std::string output_;
};

}  // namespace cmdgate::test
