// Approval latency against a running cmdgated: from spawning a command that an ask rule parks to
// the request arriving in a connected client, and from sending "approve" to the program's first
// instruction (it reports CLOCK_MONOTONIC through a pipe as its first action).
//
// Interleaved with the requests, the same spawn of a copy of the program that no rule names (the
// kernel allows it without the daemon) times the fork and exec themselves: spawn -> request minus
// that baseline is what parking, deciding and telling the client add. The daemon's own share
// (kernel record -> parked) comes from its decision log.
//
// With --auth-user, also approvals that must be authenticated: the account's own commands,
// approved by a process of the account outside their tree, each on a new connection so that
// each runs a whole PAM transaction (the account's password from --auth-password-file, answered
// as a person at the prompt would). Reported separately: decide -> program running, and the PAM
// transaction's share (answer -> verdict).
//
// Usage: cmdgate_approval_latency --cmdgated PATH [--requests N] [--json FILE]
//            [--auth-user NAME --auth-password-file FILE [--auth-requests N]]

#include <fcntl.h>
#include <grp.h>
#include <pwd.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <optional>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include <CLI/CLI.hpp>
#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "client/client.h"
#include "sample_stats.h"

namespace {

uint64_t now_ns() {
  timespec ts{};
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return static_cast<uint64_t>(ts.tv_sec) * 1000000000ull + static_cast<uint64_t>(ts.tv_nsec);
}

// The parked program: writes its first CLOCK_MONOTONIC reading to fd 3, then exits.
const char* kTargetSource = R"(
#include <time.h>
#include <unistd.h>
int main(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  unsigned long long ns = (unsigned long long)ts.tv_sec * 1000000000ull + ts.tv_nsec;
  write(3, &ns, sizeof ns);
  return 0;
}
)";

using cmdgate::bench::SampleStats;
using cmdgate::bench::summarize;

struct Account {
  std::string name;
  uid_t uid = 0;
  gid_t gid = 0;
};

// In a forked child: becomes `who`, unless it is root as we are.
void become(const Account& who) {
  if (who.uid != 0 && (::initgroups(who.name.c_str(), who.gid) != 0 ||
                       ::setgid(who.gid) != 0 || ::setuid(who.uid) != 0)) {
    ::_exit(126);
  }
}

// setsid shim + fork: the benchmark (the approver) must be outside the requester's tree.
pid_t spawn_parked(const std::string& target, int report_fd, const Account& who = {}) {
  const pid_t shim = ::fork();
  if (shim == 0) {
    ::setsid();
    become(who);
    const pid_t child = ::fork();
    if (child == 0) {
      ::dup2(report_fd, 3);
      ::execl(target.c_str(), target.c_str(), nullptr);
      ::_exit(127);
    }
    int st = 0;
    ::waitpid(child, &st, 0);
    ::_exit(0);
  }
  return shim;
}

// Spawn -> first instruction of a program the kernel lets run, in microseconds.
std::optional<double> time_to_first_instruction(const std::string& target) {
  int report[2];
  if (::pipe(report) != 0) {
    return std::nullopt;
  }
  const uint64_t t0 = now_ns();
  const pid_t shim = spawn_parked(target, report[1]);
  ::close(report[1]);
  uint64_t started = 0;
  const bool reported = ::read(report[0], &started, sizeof(started)) == sizeof(started);
  ::close(report[0]);
  ::waitpid(shim, nullptr, 0);
  if (!reported) {
    return std::nullopt;
  }
  return static_cast<double>(started - t0) / 1000.0;
}

// The daemon's kernel record -> parked time of every parked request, from its decision log.
std::vector<double> parked_latencies(const std::string& log_path) {
  std::vector<double> out;
  std::ifstream in(log_path);
  for (std::string line; std::getline(in, line);) {
    const auto j = nlohmann::json::parse(line, nullptr, false);
    if (j.is_object() && j.value("outcome", "") == "parked" && j.contains("latency_us")) {
      out.push_back(j["latency_us"].get<double>());
    }
  }
  return out;
}

// What the authenticating approver measured, in CLOCK_MONOTONIC ns.
struct AuthTimes {
  uint64_t decide_sent = 0;
  uint64_t answered = 0;  // the password given
  uint64_t decided = 0;   // the verdict back
};

// The approver of the authenticated phase: a process of the account in a session of its own.
// Reads request ids from `ids[0]`, approves each on a new connection, writes AuthTimes to
// `times[1]`; it ends when ids[1] is closed.
pid_t spawn_auth_approver(const Account& who, const std::string& password,
                          const std::string& sock, const int ids[2], const int times[2]) {
  const pid_t pid = ::fork();
  if (pid != 0) {
    return pid;
  }
  // The parent's ends: held here, the ids pipe would never reach end-of-file.
  ::close(ids[1]);
  ::close(times[0]);
  ::setsid();
  become(who);
  uint64_t id = 0;
  while (::read(ids[0], &id, sizeof(id)) == sizeof(id)) {
    AuthTimes t;
    auto c = cmdgate::client::Client::connect(sock, "approval bench (authenticated)");
    if (c) {
      cmdgate::protocol::ClientMessage m;
      m.mutable_decide()->set_id(id);
      m.mutable_decide()->set_verdict(cmdgate::protocol::VERDICT_ALLOW);
      t.decide_sent = now_ns();
      auto r = (*c)->call(std::move(m), std::chrono::seconds(30),
                          [&](const cmdgate::protocol::AuthPrompt&) {
                            cmdgate::protocol::AuthAnswer a;
                            a.add_responses(password);
                            t.answered = now_ns();
                            return cmdgate::Result<cmdgate::protocol::AuthAnswer>(a);
                          });
      t.decided = r ? now_ns() : 0;
      if (!r) {
        std::fprintf(stderr, "authenticated approval failed: %s\n", r.error().message.c_str());
      }
    }
    [[maybe_unused]] ssize_t n = ::write(times[1], &t, sizeof(t));
  }
  ::_exit(0);
}

}  // namespace

// Parks `count` commands of `who` and has them approved, with authentication, by a process of
// `who` outside their tree: decide -> program running, and the PAM transaction's share.
bool measure_authenticated(cmdgate::client::Client& client, const std::string& target,
                           const std::string& sock, const Account& who,
                           const std::string& password, int count, std::vector<double>& to_running,
                           std::vector<double>& pam) {
  int ids[2];
  int times[2];
  if (::pipe2(ids, O_CLOEXEC) != 0 || ::pipe2(times, O_CLOEXEC) != 0) {
    return false;
  }
  const pid_t approver = spawn_auth_approver(who, password, sock, ids, times);
  ::close(ids[0]);
  ::close(times[1]);
  bool ok = true;
  for (int i = 0; i < count && ok; ++i) {
    int report[2];
    if (::pipe(report) != 0) {
      ok = false;
      break;
    }
    const pid_t shim = spawn_parked(target, report[1], who);
    ::close(report[1]);
    uint64_t id = 0;
    while (id == 0) {
      auto push = client.next_push(std::chrono::seconds(10));
      if (!push || !*push) {
        std::fprintf(stderr, "no request arrived\n");
        return false;
      }
      if ((*push)->has_request()) {
        id = (*push)->request().id();
      }
    }
    AuthTimes t;
    uint64_t started = 0;
    ok = ::write(ids[1], &id, sizeof(id)) == sizeof(id) &&
         ::read(times[0], &t, sizeof(t)) == sizeof(t) && t.decided != 0 &&
         ::read(report[0], &started, sizeof(started)) == sizeof(started);
    ::close(report[0]);
    ::waitpid(shim, nullptr, 0);
    to_running.push_back(static_cast<double>(started - t.decide_sent) / 1000.0);
    pam.push_back(static_cast<double>(t.decided - t.answered) / 1000.0);
  }
  ::close(ids[1]);
  ::close(times[0]);
  ::waitpid(approver, nullptr, 0);
  return ok;
}

int main(int argc, char** argv) {
  CLI::App app{"cmdgate approval latency"};
  std::string cmdgated;
  int requests = 300;
  std::string json_out;
  app.add_option("--cmdgated", cmdgated, "Path to cmdgated")->required();
  app.add_option("--requests", requests, "Parked requests to approve")->capture_default_str();
  app.add_option("--json", json_out, "Write the results as JSON here");
  std::string auth_user, password_file;
  int auth_requests = 20;
  app.add_option("--auth-user", auth_user,
                 "Also measure authenticated approvals of this account's commands (by this "
                 "account; its primary group becomes the approver group)");
  app.add_option("--auth-password-file", password_file, "The account's password (first line)");
  app.add_option("--auth-requests", auth_requests, "Authenticated approvals")
      ->capture_default_str();
  CLI11_PARSE(app, argc, argv);
  Account who;
  std::string password;
  std::string approver_group = "cmdgate";
  if (!auth_user.empty()) {
    const passwd* pw = ::getpwnam(auth_user.c_str());
    const group* gr = pw != nullptr ? ::getgrgid(pw->pw_gid) : nullptr;
    std::ifstream pf(password_file);
    if (gr == nullptr || !std::getline(pf, password)) {
      std::fprintf(stderr, "--auth-user needs an account with a group and --auth-password-file\n");
      return 2;
    }
    who = {auth_user, pw->pw_uid, pw->pw_gid};
    approver_group = gr->gr_name;
  }

  char tmpl[] = "/tmp/cmdgate-approval-bench.XXXXXX";
  const std::string dir = ::mkdtemp(tmpl);
  ::chmod(dir.c_str(), 0755);  // the account's commands run from here
  const std::string target = dir + "/parked";
  std::ofstream(dir + "/parked.c") << kTargetSource;
  if (std::system(fmt::format("cc -O2 -o {} {}/parked.c", target, dir).c_str()) != 0) {
    std::fprintf(stderr, "cannot build the target program\n");
    return 1;
  }
  const std::string free_target = dir + "/free";
  std::filesystem::copy_file(target, free_target);
  std::filesystem::permissions(free_target, std::filesystem::perms::owner_exec,
                               std::filesystem::perm_options::add);
  std::ofstream(dir + "/rules.toml") << fmt::format(
      "default_action = \"allow\"\n[[rule]]\nid = \"bench-ask\"\naction = \"ask\"\n"
      "path = \"{}\"\ntimeout = \"60s\"\n",
      target);
  std::ofstream(dir + "/cmdgate.toml")
      << fmt::format("[approval]\napprover_group = \"{}\"\n", approver_group);
  const std::string sock = dir + "/cmdgate.sock";
  const pid_t daemon = ::fork();
  if (daemon == 0) {
    const int log = ::open((dir + "/cmdgated.log").c_str(), O_CREAT | O_WRONLY, 0644);
    ::dup2(log, 2);
    ::execl(cmdgated.c_str(), cmdgated.c_str(), "--rules", (dir + "/rules.toml").c_str(),
            "--audit-log", (dir + "/decisions.jsonl").c_str(), "--pin-dir", "", "--socket",
            sock.c_str(), "--config", (dir + "/cmdgate.toml").c_str(), nullptr);
    ::_exit(127);
  }
  std::unique_ptr<cmdgate::client::Client> client;
  for (int i = 0; i < 400 && !client; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
    if (auto c = cmdgate::client::Client::connect(sock, "approval bench")) {
      client = std::move(*c);
    }
  }
  if (!client) {
    std::fprintf(stderr, "cmdgated did not start (see %s/cmdgated.log)\n", dir.c_str());
    return 1;
  }
  cmdgate::protocol::ClientMessage sub;
  sub.mutable_subscribe()->set_approvals(true);
  if (!client->call(std::move(sub))) {
    return 1;
  }

  std::vector<double> to_request, to_running, unparked;
  for (int i = 0; i < requests; ++i) {
    const auto free_run = time_to_first_instruction(free_target);
    if (!free_run) {
      std::fprintf(stderr, "the program no rule names did not report\n");
      return 1;
    }
    unparked.push_back(*free_run);
    int report[2];
    if (::pipe(report) != 0) {
      return 1;
    }
    const uint64_t t0 = now_ns();
    const pid_t shim = spawn_parked(target, report[1]);
    ::close(report[1]);
    uint64_t id = 0;
    while (id == 0) {
      auto push = client->next_push(std::chrono::seconds(10));
      if (!push || !*push) {
        std::fprintf(stderr, "no request arrived\n");
        return 1;
      }
      if ((*push)->has_request()) {
        id = (*push)->request().id();
      }
    }
    const uint64_t t1 = now_ns();
    cmdgate::protocol::ClientMessage decide;
    decide.mutable_decide()->set_id(id);
    decide.mutable_decide()->set_verdict(cmdgate::protocol::VERDICT_ALLOW);
    const uint64_t t2 = now_ns();
    if (auto r = client->call(std::move(decide)); !r) {
      std::fprintf(stderr, "approve failed: %s\n", r.error().message.c_str());
      return 1;
    }
    uint64_t started = 0;
    if (::read(report[0], &started, sizeof(started)) != sizeof(started)) {
      std::fprintf(stderr, "the program did not report\n");
      return 1;
    }
    ::close(report[0]);
    ::waitpid(shim, nullptr, 0);
    to_request.push_back(static_cast<double>(t1 - t0) / 1000.0);
    to_running.push_back(static_cast<double>(started - t2) / 1000.0);
  }
  std::vector<double> auth_to_running, pam;
  if (!auth_user.empty() && !measure_authenticated(*client, target, sock, who, password,
                                                   auth_requests, auth_to_running, pam)) {
    std::fprintf(stderr, "authenticated approvals failed (see %s/cmdgated.log)\n", dir.c_str());
    return 1;
  }
  ::kill(daemon, SIGTERM);
  ::waitpid(daemon, nullptr, 0);

  const SampleStats a = summarize(to_request);
  const SampleStats b = summarize(to_running);
  const SampleStats base = summarize(unparked);
  const SampleStats daemon_share = summarize(parked_latencies(dir + "/decisions.jsonl"));
  std::printf("%d requests\n", requests);
  std::printf("spawn -> request in client:   p50 %8.1f us  p99 %8.1f us  max %8.1f us\n",
              a.p50, a.p99, a.max);
  std::printf("  baseline, spawn -> running of a program no rule names:\n"
              "                               p50 %8.1f us  p99 %8.1f us  max %8.1f us\n",
              base.p50, base.p99, base.max);
  std::printf("  daemon, kernel record -> parked:\n"
              "                               p50 %8.1f us  p99 %8.1f us  max %8.1f us\n",
              daemon_share.p50, daemon_share.p99, daemon_share.max);
  std::printf("approve -> program running:   p50 %8.1f us  p99 %8.1f us  max %8.1f us\n",
              b.p50, b.p99, b.max);
  const SampleStats c = summarize(auth_to_running);
  const SampleStats d = summarize(pam);
  if (!auth_user.empty()) {
    std::printf("%d authenticated approvals (a PAM transaction each)\n", auth_requests);
    std::printf("approve -> program running:   p50 %8.1f us  p99 %8.1f us  max %8.1f us\n",
                c.p50, c.p99, c.max);
    std::printf("  of which answer -> verdict: p50 %8.1f us  p99 %8.1f us  max %8.1f us\n",
                d.p50, d.p99, d.max);
  }
  if (!json_out.empty()) {
    nlohmann::json out = {
        {"requests", requests},
        {"spawn_to_request_us", {{"p50", a.p50}, {"p99", a.p99}, {"max", a.max}}},
        {"baseline_spawn_to_running_us",
         {{"p50", base.p50}, {"p99", base.p99}, {"max", base.max}}},
        {"daemon_record_to_parked_us",
         {{"p50", daemon_share.p50}, {"p99", daemon_share.p99},
          {"max", daemon_share.max}}},
        {"approve_to_running_us", {{"p50", b.p50}, {"p99", b.p99}, {"max", b.max}}}};
    if (!auth_user.empty()) {
      out["authenticated_requests"] = auth_requests;
      out["authenticated_approve_to_running_us"] = {
          {"p50", c.p50}, {"p99", c.p99}, {"max", c.max}};
      out["pam_answer_to_verdict_us"] = {{"p50", d.p50}, {"p99", d.p99}, {"max", d.max}};
    }
    std::ofstream(json_out) << out.dump(2) << "\n";
  }
  std::filesystem::remove_all(dir);
  return 0;
}
