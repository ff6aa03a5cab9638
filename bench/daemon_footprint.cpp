// cmdgated with large rule sets: time from start to enforcing (READY=1 on NOTIFY_SOCKET, which
// the daemon sends only once BPF is attached and the policy is in force), time until the
// Hyperscan build of the same generation is in place, and resident memory.
//
// An installed host has the approver group (packaging/deb/postinst, sysusers.d), which the daemon
// finds in /etc/group. On a machine without it glibc goes on to the next NSS module (nss_systemd,
// a third of a megabyte mapped into the daemon), which a deployed daemon does not hold: the
// group is made for the run, and removed after it, unless --without-approver-group.
//
// Usage: cmdgate_daemon_footprint --cmdgated PATH [--rules N]... [--json FILE]
//                                 [--without-approver-group]

#include <fcntl.h>
#include <fmt/format.h>
#include <grp.h>
#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <optional>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "synthetic_rules.h"

namespace {

using Clock = std::chrono::steady_clock;

constexpr const char* kApproverGroup = "cmdgate";  // DaemonConfig::approver_group

// Makes the approver group if it is missing; removes what it made when it ends.
class ApproverGroup {
 public:
  ApproverGroup() {
    if (::getgrnam(kApproverGroup) == nullptr) {
      made_ = std::system(fmt::format("groupadd --system {}", kApproverGroup).c_str()) == 0;
      std::printf("approver group %s: %s for the run\n", kApproverGroup,
                  made_ ? "made" : "could not be made");
    }
  }
  ~ApproverGroup() {
    if (made_ && std::system(fmt::format("groupdel {}", kApproverGroup).c_str()) != 0) {
      std::fprintf(stderr, "could not remove the group %s\n", kApproverGroup);
    }
  }
  ApproverGroup(const ApproverGroup&) = delete;
  ApproverGroup& operator=(const ApproverGroup&) = delete;

 private:
  bool made_ = false;
};

uint64_t rss_kib(pid_t pid) {
  std::ifstream f(fmt::format("/proc/{}/status", pid));
  std::string line;
  while (std::getline(f, line)) {
    if (line.rfind("VmRSS:", 0) == 0) {
      return std::stoull(line.substr(6));
    }
  }
  return 0;
}

std::string file_text(const std::string& path) {
  std::ifstream f(path);
  std::stringstream ss;
  ss << f.rdbuf();
  return ss.str();
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"cmdgated start-up time and memory with large rule sets"};
  std::string cmdgated;
  std::vector<int> sizes = {10, 10000, 100000};
  std::string json_out;
  app.add_option("--cmdgated", cmdgated, "Path to cmdgated")->required();
  app.add_option("--rules", sizes, "Rule counts to try")->capture_default_str();
  app.add_option("--json", json_out, "Write the results as JSON here");
  bool without_group = false;
  app.add_flag("--without-approver-group", without_group,
               "Leave a missing approver group missing (the daemon then maps nss_systemd)");
  CLI11_PARSE(app, argc, argv);
  std::optional<ApproverGroup> group;
  if (!without_group) {
    group.emplace();
  }

  char tmpl[] = "/tmp/cmdgate-footprint.XXXXXX";
  const std::string dir = ::mkdtemp(tmpl);
  nlohmann::json out = nlohmann::json::array();
  std::printf("%8s %14s %16s %12s %12s\n", "rules", "start_to_ready", "hyperscan_ready",
              "rss_ready", "rss_final");
  for (int n : sizes) {
    const std::string rules = fmt::format("{}/rules-{}.toml", dir, n);
    std::ofstream(rules) << cmdgate::bench::rules_text(n);
    const std::string sock = fmt::format("{}/notify-{}.sock", dir, n);
    const std::string log = fmt::format("{}/cmdgated-{}.log", dir, n);
    const int notify = ::socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    sockaddr_un addr{};
    addr.sun_family = AF_UNIX;
    std::snprintf(addr.sun_path, sizeof(addr.sun_path), "%s", sock.c_str());
    ::bind(notify, reinterpret_cast<sockaddr*>(&addr), sizeof(addr));

    const auto t0 = Clock::now();
    const pid_t pid = ::fork();
    if (pid == 0) {
      const int fd = ::open(log.c_str(), O_CREAT | O_WRONLY | O_TRUNC, 0644);
      ::dup2(fd, 2);
      ::setenv("NOTIFY_SOCKET", sock.c_str(), 1);
      const std::string audit = dir + "/decisions.jsonl";
      const std::string api = fmt::format("{}/api-{}.sock", dir, n);
      ::execl(cmdgated.c_str(), cmdgated.c_str(), "--rules", rules.c_str(), "--audit-log",
              audit.c_str(), "--pin-dir", "", "--socket", api.c_str(), nullptr);
      ::_exit(127);
    }
    double ready_ms = -1;
    char buf[512];
    while (ready_ms < 0) {
      pollfd p{notify, POLLIN, 0};
      if (::poll(&p, 1, 120000) <= 0) {
        break;
      }
      const ssize_t r = ::recv(notify, buf, sizeof(buf) - 1, 0);
      if (r > 0 && std::string(buf, static_cast<size_t>(r)).find("READY=1") != std::string::npos) {
        ready_ms = std::chrono::duration<double, std::milli>(Clock::now() - t0).count();
      }
    }
    const uint64_t rss_ready = rss_kib(pid);
    double upgraded_ms = -1;
    for (int i = 0; i < 6000 && upgraded_ms < 0; ++i) {
      if (file_text(log).find("now matches with Hyperscan") != std::string::npos) {
        upgraded_ms = std::chrono::duration<double, std::milli>(Clock::now() - t0).count();
        break;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    const uint64_t rss_final = rss_kib(pid);
    ::kill(pid, SIGTERM);
    ::waitpid(pid, nullptr, 0);
    ::close(notify);
    std::printf("%8d %11.1f ms %13.1f ms %9.1f MB %9.1f MB\n", n, ready_ms, upgraded_ms,
                static_cast<double>(rss_ready) / 1024.0, static_cast<double>(rss_final) / 1024.0);
    out.push_back({{"rules", n},
                   {"start_to_ready_ms", ready_ms},
                   {"hyperscan_ready_ms", upgraded_ms},
                   {"rss_ready_mb", static_cast<double>(rss_ready) / 1024.0},
                   {"rss_final_mb", static_cast<double>(rss_final) / 1024.0}});
  }
  if (!json_out.empty()) {
    std::ofstream(json_out) << out.dump(2) << "\n";
  }
  std::filesystem::remove_all(dir);
  return 0;
}
