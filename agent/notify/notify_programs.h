#pragma once
// [approval] notify: programs run for every new request, the request as JSON on their stdin, so
// a person hears of it without a `cmdgate prompt` running (a desktop notification, a webhook).
// Nothing here waits: the JSON is written without blocking (it fits a pipe), each program has a
// deadline after which it is killed, failures are logged and counted, and at most a bounded
// number run at once (more are skipped, and said so).

#include <sys/types.h>

#include <chrono>
#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "common/fd.h"
#include "loop/event_loop.h"
#include "pipeline/observer.h"

namespace cmdgate {

struct NotifySettings {
  std::vector<std::vector<std::string>> programs;  // argv each; argv[0] an absolute path
  std::chrono::milliseconds timeout{10'000};
  size_t max_running = 16;
};

struct NotifyStats {
  uint64_t started = 0;
  uint64_t failed = 0;    // could not start, or exited non-zero
  uint64_t timed_out = 0; // killed at the deadline
  uint64_t skipped = 0;   // too many already running
};

class NotifyPrograms final : public PipelineObserver {
 public:
  NotifyPrograms(EventLoop& loop, NotifySettings settings)
      : loop_(loop), settings_(std::move(settings)) {}
  ~NotifyPrograms() override;
  NotifyPrograms(const NotifyPrograms&) = delete;
  NotifyPrograms& operator=(const NotifyPrograms&) = delete;

  void on_parked(const PendingRequest& r) override;
  void on_closed(const PendingRequest&, Outcome, DecidedBy, const ApproverInfo*) override {}
  void on_decision(const DecisionRecord&) override {}
  [[nodiscard]] bool approvers_listening() const override { return false; }

  [[nodiscard]] const NotifyStats& stats() const { return stats_; }

 private:
  struct Running {
    pid_t pid = -1;
    Fd pidfd;
    EventLoop::TimerId deadline = 0;
    std::string name;
    uint64_t request = 0;
  };
  void start(const std::vector<std::string>& argv, const std::string& json, uint64_t request);
  void reap(int pidfd);
  void expire(int pidfd);

  EventLoop& loop_;
  NotifySettings settings_;
  std::map<int, Running> running_;  // by pidfd
  NotifyStats stats_;
};

}  // namespace cmdgate
