// Approval latency against a running cmdgated: from spawning a command that an ask rule parks to
// the request arriving in a connected client, and from sending "approve" to the program's first
// instruction (it reports CLOCK_MONOTONIC through a pipe as its first action).
//
// Usage: cmdgate_approval_latency --cmdgated PATH [--requests N] [--json FILE]

#include <fcntl.h>
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
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include <CLI/CLI.hpp>
#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "client/client.h"

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

struct Stats {
  double p50_us = 0, p99_us = 0, max_us = 0;
};

Stats summarize(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  if (v.empty()) {
    return {};
  }
  return {v[v.size() / 2], v[std::min(v.size() - 1, v.size() * 99 / 100)], v.back()};
}

// setsid shim + fork: the benchmark (the approver) must be outside the requester's tree.
pid_t spawn_parked(const std::string& target, int report_fd) {
  const pid_t shim = ::fork();
  if (shim == 0) {
    ::setsid();
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

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"cmdgate approval latency"};
  std::string cmdgated;
  int requests = 300;
  std::string json_out;
  app.add_option("--cmdgated", cmdgated, "Path to cmdgated")->required();
  app.add_option("--requests", requests, "Parked requests to approve")->capture_default_str();
  app.add_option("--json", json_out, "Write the results as JSON here");
  CLI11_PARSE(app, argc, argv);

  char tmpl[] = "/tmp/cmdgate-approval-bench.XXXXXX";
  const std::string dir = ::mkdtemp(tmpl);
  const std::string target = dir + "/parked";
  std::ofstream(dir + "/parked.c") << kTargetSource;
  if (std::system(fmt::format("cc -O2 -o {} {}/parked.c", target, dir).c_str()) != 0) {
    std::fprintf(stderr, "cannot build the target program\n");
    return 1;
  }
  std::ofstream(dir + "/rules.toml") << fmt::format(
      "default_action = \"allow\"\n[[rule]]\nid = \"bench-ask\"\naction = \"ask\"\n"
      "path = \"{}\"\ntimeout = \"60s\"\n",
      target);
  const std::string sock = dir + "/cmdgate.sock";
  const pid_t daemon = ::fork();
  if (daemon == 0) {
    const int log = ::open((dir + "/cmdgated.log").c_str(), O_CREAT | O_WRONLY, 0644);
    ::dup2(log, 2);
    ::execl(cmdgated.c_str(), cmdgated.c_str(), "--rules", (dir + "/rules.toml").c_str(),
            "--audit-log", (dir + "/decisions.jsonl").c_str(), "--pin-dir", "", "--socket",
            sock.c_str(), nullptr);
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

  std::vector<double> to_request, to_running;
  for (int i = 0; i < requests; ++i) {
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
  ::kill(daemon, SIGTERM);
  ::waitpid(daemon, nullptr, 0);

  const Stats a = summarize(to_request);
  const Stats b = summarize(to_running);
  std::printf("%d requests\n", requests);
  std::printf("spawn -> request in client:   p50 %8.1f us  p99 %8.1f us  max %8.1f us\n",
              a.p50_us, a.p99_us, a.max_us);
  std::printf("approve -> program running:   p50 %8.1f us  p99 %8.1f us  max %8.1f us\n",
              b.p50_us, b.p99_us, b.max_us);
  if (!json_out.empty()) {
    nlohmann::json out = {
        {"requests", requests},
        {"spawn_to_request_us", {{"p50", a.p50_us}, {"p99", a.p99_us}, {"max", a.max_us}}},
        {"approve_to_running_us", {{"p50", b.p50_us}, {"p99", b.p99_us}, {"max", b.max_us}}}};
    std::ofstream(json_out) << out.dump(2) << "\n";
  }
  std::filesystem::remove_all(dir);
  return 0;
}
