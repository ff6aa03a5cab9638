// Human approval end to end: the real daemon parks, the real cmdgate client decides.

#include <fcntl.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include <poll.h>

#include <cstring>
#include <fstream>
#include <random>
#include <set>
#include <thread>

#include "approval_kit.h"
#include "harness.h"

namespace cmdgate::test {
namespace {

using nlohmann::json;
using namespace std::chrono_literals;

constexpr uid_t kNobody = 65534;


std::string ask_rules(const std::string& path, const std::string& timeout = "60s") {
  return fmt::format(R"(
default_action = "allow"
[[rule]]
id = "ask-target"
description = "needs a person"
action = "ask"
path = "{}"
timeout = "{}"
)",
                     path, timeout);
}

class Approval : public MarkerTargetTest {};

TEST_F(Approval, ParkedProcessIsListedApprovedAndCompletesIntact) {
  auto agent = Agent::start({ask_rules(target_)});
  ASSERT_TRUE(agent);
  const Requester req = spawn_requester({target_, marker("approved"), "out", "9"});
  ASSERT_TRUE(wait_for([&] { return process_state(req.target) == 'T'; }, 5s));
  const auto id = wait_pending(*agent, req.target);
  ASSERT_TRUE(id) << agent->log_text();
  EXPECT_FALSE(exists(marker("approved")));

  const json listed = pending(*agent);
  ASSERT_EQ(listed.size(), 1u);
  EXPECT_EQ(listed[0]["rule"], "ask-target");
  EXPECT_EQ(listed[0]["argv"], json::array({target_, marker("approved"), "out", "9"}));

  const RunResult ok = run({cli_path(), "approve", std::to_string(*id), "--socket", agent->socket_path()});
  EXPECT_EQ(ok.code, 0) << ok.out;
  auto status = wait_status(req.shim, 10s);
  ASSERT_TRUE(status);
  EXPECT_TRUE(WIFEXITED(*status));
  EXPECT_EQ(WEXITSTATUS(*status), 9);
  EXPECT_TRUE(exists(marker("approved")));

  auto d = agent->wait_decision([](const json& j) { return j["decided_by"] == "approver"; });
  ASSERT_TRUE(d);
  EXPECT_EQ((*d)["outcome"], "allowed");
  EXPECT_EQ((*d)["approver"]["uid"], 0);
  EXPECT_GT((*d)["waited_ms"].get<double>(), 0.0);
  // Exactly one verdict: a second decision is refused.
  const RunResult again =
      run({cli_path(), "deny", std::to_string(*id), "--socket", agent->socket_path()});
  EXPECT_EQ(again.code, 1);
}

TEST_F(Approval, DeniedProcessIsKilledBeforeItRuns) {
  auto agent = Agent::start({ask_rules(target_)});
  ASSERT_TRUE(agent);
  const Requester req = spawn_requester({target_, marker("denied")});
  const auto id = wait_pending(*agent, req.target);
  ASSERT_TRUE(id) << agent->log_text();
  EXPECT_EQ(run({cli_path(), "deny", std::to_string(*id), "--socket", agent->socket_path()}).code, 0);
  auto status = wait_status(req.shim, 10s);
  ASSERT_TRUE(status);
  EXPECT_TRUE(WIFSIGNALED(*status) && WTERMSIG(*status) == SIGKILL);
  EXPECT_FALSE(exists(marker("denied")));
}

// An AI agent must not approve its own command, whatever its uid: here the approver is the
// requester's own parent, root.
TEST_F(Approval, ClientInsideTheRequestingTreeIsRefusedEvenAsRoot) {
  auto agent = Agent::start({ask_rules(target_)});
  ASSERT_TRUE(agent);
  const pid_t child = spawn({target_, marker("self-approved")});  // our own child
  const auto id = wait_pending(*agent, child);
  ASSERT_TRUE(id) << agent->log_text();
  const RunResult r =
      run({cli_path(), "approve", std::to_string(*id), "--socket", agent->socket_path()});
  EXPECT_EQ(r.code, 1);
  EXPECT_EQ(process_state(child), 'T');
  EXPECT_NE(agent->log_text().find("refused approval of request"), std::string::npos);
  // Deny is still possible from there: refusing one's own command is harmless.
  EXPECT_EQ(run({cli_path(), "deny", std::to_string(*id), "--socket", agent->socket_path()}).code, 0);
  ASSERT_TRUE(wait_status(child, 10s));
  EXPECT_FALSE(exists(marker("self-approved")));
}

TEST_F(Approval, SetsidDoesNotTakeTheRequesterOutOfItsParentsTree) {
  auto agent = Agent::start({ask_rules(target_)});
  ASSERT_TRUE(agent);
  // A child that starts a new session and then execs: its parent (us) is still its tree.
  const pid_t child = ::fork();
  if (child == 0) {
    ::setsid();
    ::execl(target_.c_str(), target_.c_str(), marker("setsid").c_str(), nullptr);
    ::_exit(127);
  }
  const auto id = wait_pending(*agent, child);
  ASSERT_TRUE(id);
  EXPECT_EQ(run({cli_path(), "approve", std::to_string(*id), "--socket", agent->socket_path()}).code,
            1);
  EXPECT_EQ(process_state(child), 'T');
  ::kill(child, SIGKILL);
  ::waitpid(child, nullptr, 0);
}

TEST_F(Approval, NonApproverOutsideTheGroupIsRefused) {
  // An open socket, so the daemon's own check is what refuses (normally the mode already does).
  auto agent = Agent::start({ask_rules(target_), {"--socket-mode", "0666"}});
  ASSERT_TRUE(agent);
  const Requester req = spawn_requester({target_, marker("nobody")});
  const pid_t child = req.target;
  const auto id = wait_pending(*agent, child);
  ASSERT_TRUE(id);
  const pid_t approver = ::fork();
  if (approver == 0) {
    if (::setgid(kNobody) != 0 || ::setuid(kNobody) != 0) {
      ::_exit(126);
    }
    const int null = ::open("/dev/null", O_RDWR);
    ::dup2(null, 1);
    ::dup2(null, 2);
    const std::string id_text = std::to_string(*id);
    const std::string sock = agent->socket_path();
    ::execl(cli_path().c_str(), cli_path().c_str(), "approve", id_text.c_str(), "--socket", sock.c_str(),
            nullptr);
    ::_exit(127);
  }
  auto st = wait_status(approver, 10s);
  ASSERT_TRUE(st);
  EXPECT_TRUE(WIFEXITED(*st));
  EXPECT_EQ(WEXITSTATUS(*st), 1);
  EXPECT_EQ(process_state(child), 'T');
  ::kill(child, SIGKILL);
  ::waitpid(req.shim, nullptr, 0);
}

// The owner's kill -CONT must not let the program run: the kernel kills it instead.
TEST_F(Approval, OwnersSigcontDoesNotLetAParkedProgramRun) {
  auto agent = Agent::start({ask_rules(target_)});
  ASSERT_TRUE(agent);
  ::chmod(work_->path().c_str(), 0777);
  const Requester req =
      spawn_requester({target_, marker("escaped")}, "/", Identity{"nobody", kNobody, kNobody});
  const pid_t child = req.target;
  ASSERT_TRUE(wait_pending(*agent, child)) << agent->log_text();
  const pid_t owner = ::fork();
  if (owner == 0) {
    if (::setgid(kNobody) != 0 || ::setuid(kNobody) != 0) {
      ::_exit(126);
    }
    ::_exit(::kill(child, SIGCONT) == 0 ? 0 : 1);
  }
  ASSERT_TRUE(wait_status(owner, 5s));
  auto status = wait_status(req.shim, 10s);
  ASSERT_TRUE(status);
  EXPECT_TRUE(WIFSIGNALED(*status) && WTERMSIG(*status) == SIGKILL);
  std::this_thread::sleep_for(100ms);
  EXPECT_FALSE(exists(marker("escaped")));
  EXPECT_TRUE(pending(*agent).empty());
  EXPECT_NE(agent->log_text().find("with SIGCONT while parked"), std::string::npos)
      << agent->log_text();
}

// Many parked processes, five clients, one of which never reads: every process gets exactly one
// verdict, from the clients that do read, long before any deadline.
TEST_F(Approval, ManyParkedProcessesAndAStuckClient) {
  constexpr int kParked = 200;
  auto agent = Agent::start({ask_rules(target_, "120s")});
  ASSERT_TRUE(agent);

  // The stuck client: subscribes to requests and to every event, then never reads.
  Fd stuck(::socket(AF_UNIX, SOCK_STREAM, 0));
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  std::strcpy(addr.sun_path, agent->socket_path().c_str());
  ASSERT_EQ(::connect(stuck.get(), reinterpret_cast<sockaddr*>(&addr), sizeof(addr)), 0);
  int small = 4096;
  ::setsockopt(stuck.get(), SOL_SOCKET, SO_RCVBUF, &small, sizeof(small));
  auto frame = [](const std::string& body) {
    const auto n = static_cast<uint32_t>(body.size());
    std::string f{static_cast<char>(n >> 24), static_cast<char>(n >> 16),
                  static_cast<char>(n >> 8), static_cast<char>(n)};
    return f + body;
  };
  // ClientMessage{request_id=1, hello{version=1}} and {request_id=2, subscribe{true,true}},
  // written as raw protobuf so the test does not depend on the client library.
  const std::string hello = frame(std::string("\x08\x01\x12\x02\x08\x01", 6));
  const std::string subscribe = frame(std::string("\x08\x02\x1a\x04\x08\x01\x10\x01", 8));
  ASSERT_GT(::write(stuck.get(), hello.data(), hello.size()), 0);
  ASSERT_GT(::write(stuck.get(), subscribe.data(), subscribe.size()), 0);

  std::vector<pid_t> kids;
  for (int i = 0; i < kParked; ++i) {
    kids.push_back(spawn_requester({target_, marker(fmt::format("m{}", i)), "", "3"}).shim);
  }
  std::set<uint64_t> ids;
  ASSERT_TRUE(wait_for(
      [&] {
        ids.clear();
        for (const auto& r : pending(*agent)) {
          ids.insert(r["id"].get<uint64_t>());
        }
        return ids.size() == kParked;
      },
      60s))
      << ids.size() << " parked\n"
      << agent->log_text();

  // Four approvers race through all requests: even ids allowed, odd denied.
  std::vector<std::thread> approvers;
  for (int a = 0; a < 4; ++a) {
    approvers.emplace_back([&, a] {
      std::vector<uint64_t> mine(ids.begin(), ids.end());
      std::shuffle(mine.begin(), mine.end(), std::mt19937(a));
      for (uint64_t id : mine) {
        run({cli_path(), id % 2 ? "deny" : "approve", std::to_string(id), "--socket",
             agent->socket_path()});
      }
    });
  }
  for (auto& t : approvers) {
    t.join();
  }
  int allowed = 0;
  int killed = 0;
  for (pid_t k : kids) {
    auto st = wait_status(k, 20s);
    ASSERT_TRUE(st) << "a process is still parked";
    allowed += WIFEXITED(*st) && WEXITSTATUS(*st) == 3;
    killed += WIFSIGNALED(*st) && WTERMSIG(*st) == SIGKILL;
  }
  EXPECT_EQ(allowed + killed, kParked);
  EXPECT_EQ(allowed, kParked / 2);
  ASSERT_EQ(agent->stop(), 0);  // every line is in the file, and no other can follow
  std::map<uint64_t, int> verdicts;
  for (const json& d : agent->decisions()) {
    if (d.contains("request") && d["outcome"] != "parked") {
      verdicts[d["request"].get<uint64_t>()]++;
      EXPECT_EQ(d["decided_by"], "approver");
    }
  }
  EXPECT_EQ(verdicts.size(), static_cast<size_t>(kParked));
  for (const auto& [id, n] : verdicts) {
    EXPECT_EQ(n, 1) << "request " << id;
  }
}

// Garbage on the socket never stops enforcement.
TEST_F(Approval, HostileClientsDoNotStopTheDaemon) {
  auto agent = Agent::start({deny_path_rules(target_)});
  ASSERT_TRUE(agent);
  auto connect_raw = [&] {
    Fd fd(::socket(AF_UNIX, SOCK_STREAM, 0));
    sockaddr_un addr{};
    addr.sun_family = AF_UNIX;
    std::strcpy(addr.sun_path, agent->socket_path().c_str());
    EXPECT_EQ(::connect(fd.get(), reinterpret_cast<sockaddr*>(&addr), sizeof(addr)), 0);
    return fd;
  };
  std::mt19937 rng(42);
  std::vector<std::string> payloads = {
      std::string("\x00\x00\x00\x05hello", 9),                     // not a message
      std::string("\x00\x00\x10\x00\x08", 5),                      // truncated, then closed
      std::string("\x01\x00\x00\x00", 4) + std::string(1 << 20, 'A'),  // 16 MiB frame
      std::string("\x00\x00\x00\x02\x08\x01", 6),                  // no hello first
  };
  std::string random(65536, '\0');
  for (auto& c : random) {
    c = static_cast<char>(rng());
  }
  payloads.push_back(random);
  for (const auto& p : payloads) {
    Fd fd = connect_raw();
    [[maybe_unused]] ssize_t n = ::send(fd.get(), p.data(), p.size(), MSG_NOSIGNAL);
  }
  // The daemon still answers and still enforces.
  const RunResult status = run({cli_path(), "status", "--json", "--socket", agent->socket_path()});
  ASSERT_EQ(status.code, 0) << status.out;
  const json st = json::parse(status.out);
  EXPECT_GE(st["counters"]["socket_protocol_errors"].get<int>(), 3);
  const RunResult r = run({target_, marker("after-garbage")});
  EXPECT_EQ(r.signal, SIGKILL);
  EXPECT_FALSE(exists(marker("after-garbage")));
}

}  // namespace
}  // namespace cmdgate::test

namespace cmdgate::test {
namespace {

class ApprovalScopes : public MarkerTargetTest {};

TEST_F(ApprovalScopes, SimilarScopeLetsTheSameCommandThroughForAWhile) {
  auto agent = Agent::start({ask_rules(target_)});
  ASSERT_TRUE(agent);
  const Requester first = spawn_requester({target_, "", "same"});
  const auto id = wait_pending(*agent, first.target);
  ASSERT_TRUE(id);
  EXPECT_EQ(run({cli_path(), "approve", std::to_string(*id), "--scope", "similar", "--minutes", "5",
                 "--socket", agent->socket_path()})
                .code,
            0);
  ASSERT_TRUE(wait_status(first.shim, 10s));
  // The identical command runs without asking; another one is asked about.
  const Requester again = spawn_requester({target_, "", "same"});
  auto st = wait_status(again.shim, 10s);
  ASSERT_TRUE(st);
  EXPECT_TRUE(WIFEXITED(*st) && WEXITSTATUS(*st) == 0);
  EXPECT_TRUE(agent->wait_decision([](const json& j) { return j["decided_by"] == "grant"; }));
  const Requester other = spawn_requester({target_, "", "different"});
  ASSERT_TRUE(wait_pending(*agent, other.target));
  ::kill(other.target, SIGKILL);
  ::waitpid(other.shim, nullptr, 0);
}

TEST_F(ApprovalScopes, PermanentScopeWritesAnAllowRuleThatIsLoaded) {
  const std::string local = work_->file("90-local.toml");
  std::ofstream(local) << "# approvals\n";
  auto agent = Agent::start(
      {ask_rules(target_), {"--rules", local, "--local-rules-file", local}});
  ASSERT_TRUE(agent);
  const Requester first = spawn_requester({target_, "", "forever"});
  const auto id = wait_pending(*agent, first.target);
  ASSERT_TRUE(id);
  const RunResult r = run({cli_path(), "approve", std::to_string(*id), "--scope", "permanent",
                           "--socket", agent->socket_path()});
  EXPECT_EQ(r.code, 0) << r.out << agent->log_text();
  ASSERT_TRUE(wait_status(first.shim, 10s));
  std::ifstream f(local);
  const std::string text((std::istreambuf_iterator<char>(f)), std::istreambuf_iterator<char>());
  EXPECT_NE(text.find("action = 'allow'"), std::string::npos) << text;
  // The reload that followed made it part of the policy: the same command is not parked.
  ASSERT_TRUE(wait_for([&] { return agent->log_text().find("generation 2 in force") !=
                                    std::string::npos; },
                       5s));
  const Requester again = spawn_requester({target_, "", "forever"});
  auto st = wait_status(again.shim, 10s);
  ASSERT_TRUE(st);
  EXPECT_TRUE(WIFEXITED(*st) && WEXITSTATUS(*st) == 0);
}

TEST_F(ApprovalScopes, PromptAnswersFromATerminalLikeStream) {
  auto agent = Agent::start({ask_rules(target_)});
  ASSERT_TRUE(agent);
  int in[2];
  int out[2];
  ASSERT_EQ(::pipe(in), 0);
  ASSERT_EQ(::pipe(out), 0);
  const pid_t prompt = ::fork();
  if (prompt == 0) {
    ::dup2(in[0], 0);
    ::dup2(out[1], 1);
    ::close(in[1]);
    ::close(out[0]);
    const std::string sock = agent->socket_path();
    ::execl(cli_path().c_str(), cli_path().c_str(), "prompt", "--socket", sock.c_str(), nullptr);
    ::_exit(127);
  }
  ::close(in[0]);
  ::close(out[1]);
  const Requester req = spawn_requester({target_, "", "prompted", "6"});
  // The prompt shows the request (with the bell) and asks.
  std::string shown;
  ASSERT_TRUE(wait_for(
      [&] {
        char buf[4096];
        pollfd p{out[0], POLLIN, 0};
        if (::poll(&p, 1, 10) > 0) {
          const ssize_t n = ::read(out[0], buf, sizeof(buf));
          if (n > 0) {
            shown.append(buf, static_cast<size_t>(n));
          }
        }
        return shown.find("allow?") != std::string::npos;
      },
      10s))
      << shown;
  EXPECT_NE(shown.find('\a'), std::string::npos);
  EXPECT_NE(shown.find("prompted"), std::string::npos);
  EXPECT_NE(shown.find("ask-target"), std::string::npos);
  ASSERT_EQ(::write(in[1], "y\n", 2), 2);
  auto st = wait_status(req.shim, 10s);
  ASSERT_TRUE(st);
  EXPECT_TRUE(WIFEXITED(*st) && WEXITSTATUS(*st) == 6);
  ::close(in[1]);  // EOF ends the prompt
  auto pst = wait_status(prompt, 10s);
  ASSERT_TRUE(pst);
  EXPECT_EQ(WEXITSTATUS(*pst), 0);
  ::close(out[0]);
}

TEST_F(ApprovalScopes, WatchStreamsDecisionsAsJson) {
  auto agent = Agent::start({"default_action = \"audit\"\n"});
  ASSERT_TRUE(agent);
  const std::string out = work_->file("watch.out");
  const pid_t watch = ::fork();
  if (watch == 0) {
    const int fd = ::open(out.c_str(), O_CREAT | O_WRONLY | O_TRUNC, 0644);
    ::dup2(fd, 1);
    const std::string sock = agent->socket_path();
    ::execl(cli_path().c_str(), cli_path().c_str(), "watch", "--json", "--outcome", "audited", "--socket",
            sock.c_str(), nullptr);
    ::_exit(127);
  }
  bool seen = false;
  for (int i = 0; i < 100 && !seen; ++i) {
    run({target_, "", "watched"});
    std::this_thread::sleep_for(50ms);
    std::ifstream f(out);
    std::string line;
    while (std::getline(f, line)) {
      const json j = json::parse(line, nullptr, false);
      seen = seen || (!j.is_discarded() && j["exe"] == target_ && j["outcome"] == "audited");
    }
  }
  ::kill(watch, SIGTERM);
  ::waitpid(watch, nullptr, 0);
  EXPECT_TRUE(seen);
}

}  // namespace
}  // namespace cmdgate::test

namespace cmdgate::test {
namespace {

// What a monitored process chose - argv, paths - must reach an approver's terminal as text it
// can read, never as bytes the terminal acts on, and one such request must not stop the others.
class ApprovalDisplay : public MarkerTargetTest {};

// The arguments of the hostile requests below as display_word shows them.
constexpr const char* kEscapedHostileArgs = R"($'\r\x1b[2K' $'\xff\xfe')";

void expect_no_raw_hostile_bytes(const std::string& out) {
  EXPECT_EQ(out.find('\x1b'), std::string::npos) << out;
  EXPECT_EQ(out.find('\r'), std::string::npos) << out;
  EXPECT_EQ(out.find('\xff'), std::string::npos) << out;
}

// `cmdgate prompt` on pipes, as a person at a terminal would drive it.
class PromptSession {
 public:
  explicit PromptSession(const Agent& agent) {
    int in[2];
    int out[2];
    if (::pipe(in) != 0 || ::pipe(out) != 0) {
      return;
    }
    pid_ = ::fork();
    if (pid_ == 0) {
      ::dup2(in[0], 0);
      ::dup2(out[1], 1);
      ::close(in[1]);
      ::close(out[0]);
      const std::string sock = agent.socket_path();
      ::execl(cli_path().c_str(), cli_path().c_str(), "prompt", "--socket", sock.c_str(), nullptr);
      ::_exit(127);
    }
    ::close(in[0]);
    ::close(out[1]);
    in_ = in[1];
    out_ = out[0];
  }
  ~PromptSession() {
    finish();
    ::close(out_);
  }
  // Reads until what was shown holds `text` `count` times.
  bool read_until(const std::string& text, size_t count = 1,
                  std::chrono::milliseconds timeout = 10s) {
    return wait_for(
        [&] {
          char buf[65536];
          pollfd p{out_, POLLIN, 0};
          if (::poll(&p, 1, 10) > 0) {
            const ssize_t n = ::read(out_, buf, sizeof(buf));
            if (n > 0) {
              shown_.append(buf, static_cast<size_t>(n));
            }
          }
          size_t found = 0;
          for (size_t at = shown_.find(text); at != std::string::npos;
               at = shown_.find(text, at + 1)) {
            ++found;
          }
          return found >= count;
        },
        timeout);
  }
  bool answer(const std::string& line) {
    const std::string l = line + "\n";
    return ::write(in_, l.data(), l.size()) == static_cast<ssize_t>(l.size());
  }
  // EOF on its input ends the prompt; its exit status.
  std::optional<int> finish() {
    if (in_ >= 0) {
      ::close(in_);
      in_ = -1;
    }
    if (pid_ <= 0) {
      return std::nullopt;
    }
    auto st = wait_status(pid_, 10s);
    if (!st) {
      ::kill(pid_, SIGKILL);
      ::waitpid(pid_, nullptr, 0);
    }
    pid_ = -1;
    return st;
  }
  const std::string& shown() const { return shown_; }

 private:
  pid_t pid_ = -1;
  int in_ = -1;
  int out_ = -1;
  std::string shown_;
};

TEST_F(ApprovalDisplay, PendingAndDenyShowControlBytesAndInvalidUtf8Escaped) {
  auto agent = Agent::start({ask_rules(target_)});
  ASSERT_TRUE(agent);
  const Requester req = spawn_requester({target_, marker("hostile"), "\r\x1b[2K", "\xff\xfe"});
  const auto id = wait_pending(*agent, req.target);
  ASSERT_TRUE(id) << agent->log_text();

  const RunResult text = run({cli_path(), "pending", "--socket", agent->socket_path()});
  EXPECT_EQ(text.code, 0) << text.out;
  EXPECT_NE(text.out.find(kEscapedHostileArgs), std::string::npos) << text.out;
  expect_no_raw_hostile_bytes(text.out);

  // JSON: exact text where it is UTF-8, and the bytes in base64 beside what is not.
  const RunResult raw = run({cli_path(), "pending", "--json", "--socket", agent->socket_path()});
  EXPECT_EQ(raw.code, 0) << raw.out;
  expect_no_raw_hostile_bytes(raw.out);
  const json listed = json::parse(raw.out, nullptr, false);
  ASSERT_TRUE(listed.is_array() && listed.size() == 1u) << raw.out;
  EXPECT_EQ(listed[0]["argv"][2], "\r\x1b[2K");
  EXPECT_EQ(listed[0]["argv"][3], R"(\xff\xfe)");
  EXPECT_EQ(listed[0]["argv_base64"][2], "DRtbMks=");
  EXPECT_EQ(listed[0]["argv_base64"][3], "//4=");
  EXPECT_EQ(listed[0]["argc"], 4);

  const RunResult denied =
      run({cli_path(), "deny", std::to_string(*id), "--socket", agent->socket_path()});
  EXPECT_EQ(denied.code, 0) << denied.out;
  EXPECT_NE(denied.out.find(kEscapedHostileArgs), std::string::npos) << denied.out;
  expect_no_raw_hostile_bytes(denied.out);
  auto st = wait_status(req.shim, 10s);
  ASSERT_TRUE(st);
  EXPECT_TRUE(WIFSIGNALED(*st) && WTERMSIG(*st) == SIGKILL);
  EXPECT_FALSE(exists(marker("hostile")));
}

TEST_F(ApprovalDisplay, PromptShowsHostileArgumentsEscapedAndServesTheNextRequest) {
  auto agent = Agent::start({ask_rules(target_)});
  ASSERT_TRUE(agent);
  PromptSession prompt(*agent);
  const Requester hostile =
      spawn_requester({target_, marker("hostile"), "\r\x1b[2K", "\xff\xfe"});
  ASSERT_TRUE(prompt.read_until("allow?")) << prompt.shown() << agent->log_text();
  EXPECT_NE(prompt.shown().find(kEscapedHostileArgs), std::string::npos) << prompt.shown();

  // A normal request queues behind it and is served once the hostile one is denied.
  const Requester normal = spawn_requester({target_, marker("normal"), "", "6"});
  ASSERT_TRUE(wait_pending(*agent, normal.target));
  ASSERT_TRUE(prompt.answer("n"));
  ASSERT_TRUE(prompt.read_until("allow?", 2)) << prompt.shown();
  EXPECT_NE(prompt.shown().find(marker("normal")), std::string::npos) << prompt.shown();
  ASSERT_TRUE(prompt.answer("y"));

  auto st = wait_status(normal.shim, 10s);
  ASSERT_TRUE(st);
  EXPECT_TRUE(WIFEXITED(*st) && WEXITSTATUS(*st) == 6);
  EXPECT_TRUE(exists(marker("normal")));
  auto hst = wait_status(hostile.shim, 10s);
  ASSERT_TRUE(hst);
  EXPECT_TRUE(WIFSIGNALED(*hst) && WTERMSIG(*hst) == SIGKILL);
  EXPECT_FALSE(exists(marker("hostile")));
  const auto pst = prompt.finish();
  ASSERT_TRUE(pst);
  EXPECT_TRUE(WIFEXITED(*pst) && WEXITSTATUS(*pst) == 0) << prompt.shown();
  expect_no_raw_hostile_bytes(prompt.shown());
}

// argv may run to megabytes, a frame to one: such a request is sent cut, and says so, instead of
// ending every client that reads it.
TEST_F(ApprovalDisplay, ACommandLargerThanAFrameIsShownCutAndStopsNothing) {
  auto agent = Agent::start({ask_rules(target_)});
  ASSERT_TRUE(agent);
  PromptSession prompt(*agent);
  std::vector<std::string> argv{target_, marker("huge"), "", "0"};
  for (char c = 'a'; c < 'a' + 12; ++c) {
    argv.emplace_back(120u << 10, c);
  }
  const Requester huge = spawn_requester(argv);
  ASSERT_TRUE(prompt.read_until("allow?")) << agent->log_text();
  EXPECT_NE(prompt.shown().find("[cut: "), std::string::npos);

  const json listed = pending(*agent);
  ASSERT_TRUE(listed.is_array() && listed.size() == 1u);
  EXPECT_EQ(listed[0]["argc"], argv.size());
  EXPECT_GT(listed[0]["argv_omitted_bytes"].get<uint64_t>(), 0u);
  const RunResult text = run({cli_path(), "pending", "--socket", agent->socket_path()});
  EXPECT_EQ(text.code, 0);
  EXPECT_NE(text.out.find("[cut: "), std::string::npos);

  const Requester normal = spawn_requester({target_, marker("normal"), "", "6"});
  ASSERT_TRUE(wait_pending(*agent, normal.target));
  ASSERT_TRUE(prompt.answer("n"));
  ASSERT_TRUE(prompt.read_until("allow?", 2)) << agent->log_text();
  ASSERT_TRUE(prompt.answer("y"));
  auto st = wait_status(normal.shim, 10s);
  ASSERT_TRUE(st);
  EXPECT_TRUE(WIFEXITED(*st) && WEXITSTATUS(*st) == 6);
  auto hst = wait_status(huge.shim, 10s);
  ASSERT_TRUE(hst);
  EXPECT_TRUE(WIFSIGNALED(*hst) && WTERMSIG(*hst) == SIGKILL);
  EXPECT_FALSE(exists(marker("huge")));
}

}  // namespace
}  // namespace cmdgate::test
