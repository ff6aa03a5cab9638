#pragma once
// Keeps the policy in force: the first load, then reloads on SIGHUP, on inotify changes to rule
// files and to files named by exact-path rules, on a periodic re-resolution, and on request
// (cmdgate reload). Compilation runs on a worker thread in two phases: RE2::Set first (fast to
// build, so a new policy is in force within milliseconds), then the same rules with Hyperscan
// (no locks, no allocation per evaluation) swapped in for the same generation when ready. A
// reload that fails for any reason leaves the current generation in force and is counted.

#include <chrono>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "kernel/kernel_port.h"
#include "loop/event_loop.h"
#include "policy/local_last_known_good.h"
#include "policy/path_watch.h"
#include "policy/policy_compiler.h"
#include "policy/policy_store.h"

namespace cmdgate {

struct ReloadStats {
  uint64_t reloads = 0;   // successful, the first load included
  uint64_t failures = 0;
  uint64_t upgrades = 0;  // generations moved to the steady-state engine
  std::string last_error;  // of the last failed attempt, empty after a success
  std::chrono::milliseconds last_compile{0};
};

class PolicyManager {
 public:
  using Hook = std::function<void()>;
  using Done = std::function<void(const Status&)>;

  PolicyManager(PolicyStore& store, KernelPort& kernel, EventLoop& loop)
      : store_(store), kernel_(kernel), loop_(loop) {}

  // Writes a last-known-good copy the loop had no time to write, and cancels its timers.
  ~PolicyManager();
  PolicyManager(const PolicyManager&) = delete;
  PolicyManager& operator=(const PolicyManager&) = delete;

  // Where the last-known-good copy of the local rule files is kept: saved (from the loop, or at
  // the latest when this manager goes) after every build that read them and went into force,
  // enforced at start when they do not compile. Set before start; must outlive this manager.
  void keep_local_copy(LocalLastKnownGood* copy) { local_copy_ = copy; }
  // Loads, publishes and watches the first policy (synchronously); the loop then reads its rule
  // files again and reloads if they changed before the watch began. When it does not build and a
  // last-known-good copy exists, starts from the copy instead (logged at critical level, and
  // local_fallback() says why until a reload from the files succeeds). Fatal to the daemon when
  // neither builds.
  [[nodiscard]] Status start();
  // The same with the first policy already built from the store's source, e.g. by build_first
  // on another thread while the BPF objects load; `took` is how long that build took.
  [[nodiscard]] Status start(Result<Snapshot> first, std::chrono::milliseconds took);

  struct FirstBuild {
    Result<Snapshot> snapshot;
    std::chrono::milliseconds took;
  };
  // The first policy of a start, built from the store's source on a block of huge pages
  // (memory/huge_page_heap.h): most of a first build is touching new memory.
  [[nodiscard]] static FirstBuild build_first(const PolicyStore& store);
  // Reloads in the background; done (if given) runs on the loop with the result. Requests that
  // arrive while one is running are served by one more reload after it.
  void reload(std::string_view reason, Done done = nullptr);
  // Reloads after a short quiet period, so that a burst of file events costs one reload.
  void reload_soon(std::string_view reason);
  // Reloads from another source (new pushed rules), like reload(): if it builds and publishes,
  // it becomes the store's source; otherwise the current source and generation stay in force.
  // One apply at a time: the caller waits for `done` before the next.
  void apply(PolicySource source, std::string_view reason, Done done);

  void on_reload_begin(Hook h) { begin_ = std::move(h); }
  void on_reload_end(Done d) { end_ = std::move(d); }

  [[nodiscard]] const ReloadStats& stats() const { return stats_; }
  // Non-empty while the last-known-good copy stands in for the local rule files: why.
  [[nodiscard]] const std::string& local_fallback() const { return local_fallback_; }
  [[nodiscard]] const PolicyStore& store() const { return store_; }
  [[nodiscard]] bool busy() const { return running_; }

  static constexpr std::chrono::milliseconds kQuietPeriod{200};
  static constexpr std::chrono::seconds kReresolveInterval{30};

 private:
  void start_reload();
  // adopt: the candidate source the snapshot was built from, made the store's on success.
  void finish_reload(Result<Snapshot> built, std::chrono::milliseconds took,
                     std::shared_ptr<const PolicySource> adopt);
  [[nodiscard]] Status publish(Snapshot s, const PolicySource& source);
  // The first policy from the last-known-good copy, after `failed` (the files' error).
  [[nodiscard]] Result<Snapshot> build_from_copy(const Error& failed);
  void save_local_copy();
  void upgrade_in_background(uint32_t generation);
  void rewatch();
  void watch_current();  // rewatch, then what changed before the watch existed
  [[nodiscard]] bool resolutions_changed() const;

  PolicyStore& store_;
  KernelPort& kernel_;
  EventLoop& loop_;
  std::unique_ptr<PolicyCompiler> compiler_;
  std::unique_ptr<PathWatch> watch_;
  EventLoop::TimerId pending_ = 0;
  bool running_ = false;
  bool again_ = false;
  std::string reason_;
  std::optional<PolicySource> candidate_;  // for the next reload, from apply()
  std::vector<Done> waiting_;  // callers of the reload in flight
  std::vector<Done> queued_;   // callers of the next one
  ReloadStats stats_;
  LocalLastKnownGood* local_copy_ = nullptr;
  std::shared_ptr<const std::vector<rules::RulesText>> unsaved_copy_;
  EventLoop::TimerId copy_timer_ = 0;
  EventLoop::TimerId recheck_timer_ = 0;  // the first policy's files, read again
  std::string local_fallback_;
  Hook begin_;
  Done end_;
};

}  // namespace cmdgate
