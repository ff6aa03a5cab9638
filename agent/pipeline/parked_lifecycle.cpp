// The parked requests over time: exits, escapes, deadlines, records that never came, shutdown.
#include <spdlog/spdlog.h>

#include <csignal>

#include "context/proc_snapshot.h"
#include "kernel/proc_parse.h"
#include "pipeline/exec_pipeline.h"

namespace cmdgate {
namespace {

using rules::Action;

// A parked process that runs: neither stopped (T) nor in a ptrace stop (t) nor dying (Z, X),
// and no longer on its way to the stop (its SIGSTOP is not pending any more: a SIGCONT flushed
// it, or a tracer swallowed it).
bool runs_unstopped(std::string_view status) {
  const size_t at = status.find("\nState:\t");
  if (at == std::string_view::npos || at + 8 >= status.size()) {
    return false;
  }
  const char state = status[at + 8];
  if (state == 'T' || state == 't' || state == 'Z' || state == 'X') {
    return false;
  }
  constexpr uint64_t kStop = 1ull << (SIGSTOP - 1);
  return (status_mask(status, "SigPnd:") & kStop) == 0 &&
         (status_mask(status, "ShdPnd:") & kStop) == 0;
}

}  // namespace

void ExecPipeline::on_exit(const ExitEvent& x) {
  if (auto r = pending_.take_exec(x.tgid, x.exec_id)) {
    ++stats_.gone;
    mark_decided(x.tgid, x.exec_id);
    DecisionRecord rec;
    rec.event = &r->event;
    rec.judgement = &r->judgement;
    rec.decided_by = DecidedBy::kGone;
    rec.outcome = Outcome::kGone;
    rec.request_id = r->id;
    rec.latency_ns = latency(r->event);
    rec.waited_ns = rec.latency_ns;
    emit(rec);
    if (observer_ != nullptr) {
      observer_->on_closed(*r, Outcome::kGone, DecidedBy::kGone, nullptr);
    }
  }
}

void ExecPipeline::on_escape(const EscapeEvent& x) {
  spdlog::warn("process {} was made to run by pid {} (uid {}) with {} while parked; the kernel {}",
               x.target_tgid, x.sender_tgid, x.sender_uid,
               x.signal != 0 ? "SIGCONT" : "a wakeup without a signal (ptrace)",
               x.kill_sent ? "killed it" : "could not kill it");
  ++stats_.escapes;
  if (auto r = pending_.take_exec(x.target_tgid, x.exec_id)) {
    finish(*r, false, DecidedBy::kEscape);  // the daemon's SIGKILL too: kill_sent may be false
  } else if (!x.kill_sent) {
    // Not pending (its record is still on its way, or it was never delivered): the parked entry
    // still names it, so the pidfd taken now is that process.
    if (auto process = d_.control.pin(x.target_tgid, x.exec_id)) {
      (void)d_.control.kill(*process);
    }
  }
}

void ExecPipeline::catch_escapes() {
  // A process that has just taken its SIGSTOP off the queue is still running until it stops, so
  // one look can catch it in between: only a process seen running on two ticks in a row escaped.
  std::set<uint64_t> unstopped;
  std::vector<uint64_t> escaped;
  for (const PendingRequest* r : pending_.list()) {
    if (auto status = d_.proc.read(r->event.tgid, "status"); status && runs_unstopped(*status)) {
      unstopped.insert(r->id);
      if (seen_unstopped_.contains(r->id)) {
        escaped.push_back(r->id);
      }
    }
  }
  seen_unstopped_ = std::move(unstopped);
  for (uint64_t id : escaped) {
    if (auto r = pending_.take(id)) {
      spdlog::warn("parked process {} ({}) is running without a verdict: killing it",
                   r->event.tgid, r->event.path);
      ++stats_.escapes;
      finish(*r, false, DecidedBy::kEscape);
    }
  }
}

void ExecPipeline::expire() {
  for (PendingRequest& r : pending_.take_expired(d_.clock.steady())) {
    ++stats_.timed_out;
    finish(r, r.judgement.timeout_action == Action::kAllow, DecidedBy::kTimeout);
  }
}

void ExecPipeline::recover_orphans() {
  const uint64_t now = d_.clock.monotonic_ns();
  const uint64_t grace = static_cast<uint64_t>(
      std::chrono::duration_cast<std::chrono::nanoseconds>(options_.orphan_grace).count());
  for (const ParkedEntry& p : d_.parked.list()) {
    if (pending_.contains_exec(p.tgid, p.exec_id) || in_flight_.contains({p.tgid, p.exec_id}) ||
        now < p.parked_ns + grace) {
      continue;
    }
    if (already_decided(p.tgid, p.exec_id)) {
      d_.parked.erase(p.tgid, p.exec_id);  // verdict given, entry left behind
      continue;
    }
    auto e = snapshot_from_proc(d_.proc, p.tgid, p.exec_id, p.parked_ns);
    if (!e) {
      d_.parked.erase(p.tgid, p.exec_id);
      continue;
    }
    auto s = d_.policies.current_shared();
    if (s == nullptr) {
      return;
    }
    e->generation = s->generation;
    ++stats_.recovered;
    spdlog::warn("recovering parked process {} ({}) whose record never arrived", p.tgid, e->path);
    handle_parked(*e, std::move(s));
  }
}

void ExecPipeline::release_all() {
  const bool allow = options_.on_shutdown == Action::kAllow;
  for (PendingRequest& r : pending_.take_all()) {
    finish(r, allow, DecidedBy::kShutdown);
  }
  // Parked processes whose records were never handled.
  for (const ParkedEntry& p : d_.parked.list()) {
    auto process = d_.control.pin(p.tgid, p.exec_id);
    if (!process) {
      continue;
    }
    auto e = snapshot_from_proc(d_.proc, p.tgid, p.exec_id, p.parked_ns);
    mark_decided(p.tgid, p.exec_id);  // also those whose files were still being read
    Status st = allow ? d_.control.resume(*process) : d_.control.kill(*process);
    if (!st) {
      spdlog::warn("{}", st.error().message);
    }
    if (e) {
      log_unjudged(*e, DecidedBy::kShutdown, allow ? Outcome::kAllowed : Outcome::kDenied);
    }
  }
}

}  // namespace cmdgate
