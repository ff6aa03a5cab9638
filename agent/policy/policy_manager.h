#pragma once
// Keeps the policy in force: the first load, then reloads on SIGHUP, on inotify changes to rule
// files and to files named by exact-path rules, on a periodic re-resolution, and on request
// (cmdgate reload). A reload that fails for any reason leaves the current generation in force
// and is counted and reported.

#include <chrono>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "kernel/kernel_port.h"
#include "loop/event_loop.h"
#include "policy/path_watch.h"
#include "policy/policy_store.h"

namespace cmdgate {

struct ReloadStats {
  uint64_t reloads = 0;   // successful, the first load included
  uint64_t failures = 0;
  std::string last_error;  // of the last failed attempt, empty after a success
};

class PolicyManager {
 public:
  using Hook = std::function<void()>;
  using Done = std::function<void(const Status&)>;

  PolicyManager(PolicyStore& store, KernelPort& kernel, EventLoop& loop)
      : store_(store), kernel_(kernel), loop_(loop) {}

  // Loads, publishes and watches the first policy. An error here is fatal to the daemon.
  [[nodiscard]] Status start();
  // Reloads now.
  Status reload(std::string_view reason);
  // Reloads after a short quiet period, so that a burst of file events costs one reload.
  void reload_soon(std::string_view reason);
  // Switches to another source (new pushed rules) if it builds and publishes; otherwise the
  // current source and generation stay in force. Reported and counted like a reload.
  Status apply(PolicySource source, std::string_view reason);

  void on_reload_begin(Hook h) { begin_ = std::move(h); }
  void on_reload_end(Done d) { end_ = std::move(d); }

  [[nodiscard]] const ReloadStats& stats() const { return stats_; }
  [[nodiscard]] const PolicyStore& store() const { return store_; }

  static constexpr std::chrono::milliseconds kQuietPeriod{200};
  static constexpr std::chrono::seconds kReresolveInterval{30};

 private:
  [[nodiscard]] Status build_and_publish(const PolicySource& source);
  Status reload_from(PolicySource* candidate, std::string_view reason);
  void rewatch();
  [[nodiscard]] bool resolutions_changed() const;

  PolicyStore& store_;
  KernelPort& kernel_;
  EventLoop& loop_;
  std::unique_ptr<PathWatch> watch_;
  EventLoop::TimerId pending_ = 0;
  ReloadStats stats_;
  Hook begin_;
  Done end_;
};

}  // namespace cmdgate
