// People are told: a new request runs the configured notify programs with its JSON on stdin (a
// hanging one is killed at its timeout and delays nothing), and denials and requests reach the
// journal with structured fields.

#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <cstring>
#include <filesystem>
#include <map>
#include <fstream>
#include <sstream>

#include "harness.h"

namespace cmdgate::test {
namespace {

using nlohmann::json;
using namespace std::chrono_literals;

class Notify : public MarkerTargetTest {
 protected:
  // cmdgated's settings file with an [approval] section.
  std::string config(const std::string& approval) const {
    const std::string path = work_->file("cmdgate.toml");
    std::ofstream(path) << "[approval]\n" << approval << "\n";
    return path;
  }
  // A request parked by a shell in a session of its own, so that this test, which approves it,
  // is outside the requesting session.
  pid_t park(Agent& agent, const std::string& name) {
    spawn({"/usr/bin/setsid", "/bin/sh", "-c", "\"$0\" \"$1\"; :", target_, marker(name)});
    auto d = agent.wait_decision([&](const json& j) {
      return j["outcome"] == "parked" && j["argv"].dump().find(name) != std::string::npos;
    });
    EXPECT_TRUE(d) << agent.log_text();
    return d ? (*d)["tgid"].get<pid_t>() : -1;
  }
};

TEST_F(Notify, ANotifyProgramGetsTheRequestAsJson) {
  const std::string out = work_->file("notified.json");
  const std::string conf = config(fmt::format(
      R"(notify = [["/bin/sh", "-c", "cat > {}"]])", out));
  auto agent = Agent::start({ask_path_rules(target_, "60s", R"(message = "a person looks at this first")"), {"--config", conf}});
  ASSERT_TRUE(agent);
  const pid_t pid = park(*agent, "notified");
  ASSERT_GT(pid, 0);
  ASSERT_TRUE(wait_for([&] { return read_file(out).find('}') != std::string::npos; }, 10s))
      << agent->log_text();
  const json j = json::parse(read_file(out), nullptr, false);
  ASSERT_FALSE(j.is_discarded()) << read_file(out);
  EXPECT_EQ(j["pid"], pid);
  EXPECT_EQ(j["rule"], "ask-target");
  EXPECT_EQ(j["message"], "a person looks at this first");
  EXPECT_EQ(j["answer_with"], "cmdgate prompt");
  EXPECT_GT(j["request"].get<int>(), 0);
  ::kill(pid, SIGKILL);
}

TEST_F(Notify, AHangingNotifyProgramIsKilledAndDelaysNothing) {
  const std::string conf = config(R"(notify = [["/bin/sleep", "600"]]
notify_timeout = "500ms")");
  auto agent = Agent::start({ask_path_rules(target_, "60s", R"(message = "a person looks at this first")"), {"--config", conf}});
  ASSERT_TRUE(agent);
  const auto t0 = std::chrono::steady_clock::now();
  const pid_t pid = park(*agent, "hung");
  ASSERT_GT(pid, 0);
  // The person's answer is not held up by the program.
  auto d = agent->wait_decision([&](const json& j) { return j["tgid"] == pid; });
  ASSERT_TRUE(d);
  const std::string id = std::to_string((*d)["request"].get<int>());
  const RunResult r = run({cli_path(), "approve", id, "--socket", agent->socket_path()});
  EXPECT_EQ(r.code, 0) << r.out << agent->log_text();
  EXPECT_TRUE(wait_for([&] { return exists(marker("hung")); }, 5s));
  EXPECT_LT(std::chrono::steady_clock::now() - t0, 5s);
  EXPECT_TRUE(wait_for(
      [&] { return agent->log_text().find("after 500 ms: killed") != std::string::npos; }, 5s))
      << agent->log_text();
  // And no sleep is left behind.
  const RunResult left = run({"/usr/bin/pgrep", "-f", "^/bin/sleep 600$"});
  EXPECT_NE(left.code, 0) << left.out;
}

// No journald runs on the test machine: a socket of the test's own stands where sd_journal_send
// writes, and the datagrams are the journal's native protocol.
class Journal : public MarkerTargetTest {
 protected:
  void SetUp() override {
    MarkerTargetTest::SetUp();
    if (exists(kSocket)) {
      GTEST_SKIP() << "a journald runs here; its entries are checked with journalctl elsewhere";
    }
    made_dir_ = std::filesystem::create_directories("/run/systemd/journal");
    sock_.reset(::socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0));
    sockaddr_un addr{};
    addr.sun_family = AF_UNIX;
    std::snprintf(addr.sun_path, sizeof(addr.sun_path), "%s", kSocket);
    ASSERT_EQ(::bind(sock_.get(), reinterpret_cast<sockaddr*>(&addr), sizeof(addr)), 0);
    bound_ = true;
  }
  void TearDown() override {
    if (bound_) {
      ::unlink(kSocket);
    }
    if (made_dir_) {
      ::rmdir("/run/systemd/journal");
    }
  }
  // Every entry received so far, as field -> value.
  std::vector<std::map<std::string, std::string>> entries() {
    char buf[65536];
    ssize_t n = 0;
    while ((n = ::recv(sock_.get(), buf, sizeof(buf), 0)) > 0) {
      std::map<std::string, std::string> e;
      std::string_view rest(buf, static_cast<size_t>(n));
      while (!rest.empty()) {
        const size_t nl = rest.find('\n');
        const std::string_view line = rest.substr(0, nl);
        const size_t eq = line.find('=');
        if (eq != std::string_view::npos) {
          e[std::string(line.substr(0, eq))] = std::string(line.substr(eq + 1));
          rest.remove_prefix(nl == std::string_view::npos ? rest.size() : nl + 1);
        } else {  // KEY\n<le64 length><value>\n
          uint64_t len = 0;
          std::memcpy(&len, rest.data() + nl + 1, sizeof(len));
          e[std::string(line)] = std::string(rest.substr(nl + 1 + 8, len));
          rest.remove_prefix(std::min(rest.size(), nl + 1 + 8 + len + 1));
        }
      }
      got_.push_back(std::move(e));
    }
    return got_;
  }
  static constexpr const char* kSocket = "/run/systemd/journal/socket";
  Fd sock_;
  bool bound_ = false;
  bool made_dir_ = false;
  std::vector<std::map<std::string, std::string>> got_;
};

TEST_F(Journal, DenialsReachTheJournalWithItsFieldsAndAllowedExecsDoNot) {
  auto agent = Agent::start({deny_path_rules(target_, R"(message = "not here")")});
  ASSERT_TRUE(agent);
  EXPECT_EQ(run({target_, marker("denied")}).signal, SIGKILL);
  EXPECT_EQ(run({"/bin/true"}).code, 0);
  std::map<std::string, std::string> denial;
  ASSERT_TRUE(wait_for(
      [&] {
        for (const auto& e : entries()) {
          if (e.count("CMDGATE_RULE") && e.at("CMDGATE_RULE") == "deny-target") {
            denial = e;
            return true;
          }
        }
        return false;
      },
      10s))
      << agent->log_text();
  EXPECT_EQ(denial["PRIORITY"], "4");  // warning: journalctl -p warning shows it
  EXPECT_EQ(denial["SYSLOG_IDENTIFIER"], "cmdgated");
  EXPECT_EQ(denial["CMDGATE_OUTCOME"], "denied");
  EXPECT_EQ(denial["CMDGATE_EXE"], target_);
  EXPECT_NE(denial["CMDGATE_TOLD"].find("not here (rule deny-target)"), std::string::npos);
  for (const auto& e : got_) {
    EXPECT_EQ(e.count("CMDGATE_EXE") && e.at("CMDGATE_EXE") == "/usr/bin/true", false)
        << "an allowed exec was journaled";
  }
}

}  // namespace
}  // namespace cmdgate::test
