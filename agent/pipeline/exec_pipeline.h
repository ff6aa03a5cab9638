#pragma once
// decode -> build context -> decide -> respond -> log, for every record the kernel sends, plus
// the deadlines and recovery of parked processes. Everything it touches is injected, so it runs
// in unit tests with fakes and in the daemon with the kernel.

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <set>
#include <span>

#include "context/context_builder.h"
#include "context/exec_files.h"
#include "kernel/clock.h"
#include "kernel/learner.h"
#include "kernel/parked_store.h"
#include "kernel/proc_fs.h"
#include "kernel/process_control.h"
#include "log/decision_log.h"
#include "metrics/metrics.h"
#include "notify/caller_channel.h"
#include "park/grants.h"
#include "park/pending_table.h"
#include "pipeline/observer.h"
#include "policy/policy_store.h"

namespace cmdgate {

struct PipelineOptions {
  // What a parked process gets when the daemon stops: kAllow resumes it, kDeny kills it.
  rules::Action on_shutdown = rules::Action::kDeny;
  // A parked-map entry older than this with no record seen for it is recovered from /proc.
  std::chrono::milliseconds orphan_grace{1000};
  // With nobody listening for approval requests, apply an ask's timeout action at once instead
  // of waiting out its deadline.
  bool fallback_when_no_approver = false;
  // Parking cannot be made escape-proof here and [approval] unsafe_park is "deny": an ask is
  // denied at once instead of waiting where its owner could resume it.
  bool deny_asks = false;
};

struct PipelineStats {
  uint64_t records = 0;
  uint64_t decode_errors = 0;
  uint64_t decisions = 0;
  uint64_t resumed = 0;
  uint64_t killed = 0;
  uint64_t parked = 0;
  uint64_t timed_out = 0;
  uint64_t gone = 0;
  uint64_t duplicates = 0;
  uint64_t recovered = 0;
  uint64_t kernel_disagreements = 0;
  uint64_t stale_generation = 0;
  uint64_t learned = 0;
  uint64_t approved = 0;
  uint64_t refused = 0;
  uint64_t granted = 0;
  uint64_t escapes = 0;

  // Every counter under the one name status, the stop log and tests know it by.
  template <typename Visit>
  void each(Visit&& visit) const {
    visit("records", records);
    visit("decode_errors", decode_errors);
    visit("decisions", decisions);
    visit("resumed", resumed);
    visit("killed", killed);
    visit("parked", parked);
    visit("timed_out", timed_out);
    visit("gone", gone);
    visit("duplicates", duplicates);
    visit("recovered", recovered);
    visit("kernel_disagreements", kernel_disagreements);
    visit("stale_generation", stale_generation);
    visit("learned", learned);
    visit("approved", approved);
    visit("refused", refused);
    visit("granted", granted);
    visit("escapes", escapes);
  }
};

struct PipelineDeps {
  const Clock& clock;
  const ProcFs& proc;
  FileFacts& files;
  ContextBuilder& contexts;
  ProcessControl& control;
  ParkedStore& parked;
  Learner& learner;
  const PolicyStore& policies;
  DecisionLog& log;
  CallerChannel* caller = nullptr;  // where held and denied processes are told why; none: silent
};

class ExecPipeline {
 public:
  ExecPipeline(PipelineDeps deps, PipelineOptions options) : d_(deps), options_(options) {}

  void on_record(std::span<const std::byte> bytes);
  void on_exec(const ExecEvent& e);
  void on_exit(const ExitEvent& e);
  void on_escape(const EscapeEvent& e);

  // Applies the timeout action to every ask whose deadline has passed.
  void expire();
  // The backstop behind the kernel's escape guard: a parked process found neither stopped nor
  // traced has been made to run by someone else; it is killed and reported as an escape.
  void catch_escapes();
  // Decides parked processes whose records never arrived.
  void recover_orphans();
  // Resumes or kills every parked process according to on_shutdown.
  void release_all();

  // A person's verdict on a pending request. Exactly once: an error when it is no longer
  // pending (decided, timed out or gone). Returns the outcome.
  [[nodiscard]] Result<Outcome> decide(uint64_t id, bool allow, const ApproverInfo& who);

  void set_observer(PipelineObserver* observer) { observer_ = observer; }
  void set_metrics(DecisionMetrics* metrics) { metrics_ = metrics; }
  [[nodiscard]] Grants& grants() { return grants_; }

  [[nodiscard]] const PendingTable& pending() const { return pending_; }
  [[nodiscard]] const PipelineStats& stats() const { return stats_; }
  [[nodiscard]] std::optional<SteadyTime> next_deadline() const { return pending_.next_deadline(); }

 private:
  using Then = std::function<void(const ExecEvent&, const Snapshot&, EvalInput&)>;
  std::shared_ptr<const Snapshot> snapshot_for(const ExecEvent& e);
  // Establishes the exec's files (possibly later, off the loop), builds its context, then
  // calls then() on the loop.
  void judge(const ExecEvent& e, std::shared_ptr<const Snapshot> s, Then then);
  // A record the kernel decided alone (or could not stop): explained and logged.
  void explain(const ExecEvent& e, const Snapshot& s, EvalInput& in);
  void handle_parked(const ExecEvent& e, std::shared_ptr<const Snapshot> s);
  void decide_parked(const ExecEvent& e, const Snapshot& s, ProcessHandle process, EvalInput& in);
  void finish(PendingRequest& r, bool allow, DecidedBy by, const ApproverInfo* approver = nullptr);
  void emit(DecisionRecord rec);
  [[nodiscard]] bool ignores_sighup(uint32_t tgid) const;
  // One line to the process's stderr; whether it was delivered.
  bool tell(uint32_t tgid, const std::string& line);
  void park(const ExecEvent& e, const EvalInput& in, const Snapshot& s, ProcessHandle process,
            Judgement j, DecisionRecord& rec);
  void log_unjudged(const ExecEvent& e, DecidedBy by, Outcome outcome);
  void maybe_learn(const ExecEvent& e, const EvalInput& in, const Snapshot& s);
  [[nodiscard]] bool already_decided(uint32_t tgid, uint64_t exec_id) const;
  void mark_decided(uint32_t tgid, uint64_t exec_id);
  [[nodiscard]] uint64_t latency(const ExecEvent& e) const;

  PipelineDeps d_;
  PipelineOptions options_;
  PendingTable pending_;
  std::set<uint64_t> seen_unstopped_;  // parked, yet found running on the last tick
  PipelineStats stats_;
  Grants grants_{d_.proc};
  PipelineObserver* observer_ = nullptr;
  DecisionMetrics* metrics_ = nullptr;
  // Execs already given their verdict, so a late or repeated record never gets a second one.
  std::set<std::pair<uint32_t, uint64_t>> decided_;
  // Parked execs whose files are being established: neither pending nor orphans.
  std::set<std::pair<uint32_t, uint64_t>> in_flight_;
  std::deque<std::pair<uint32_t, uint64_t>> decided_order_;
};

}  // namespace cmdgate
