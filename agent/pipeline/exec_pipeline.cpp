#include "pipeline/exec_pipeline.h"

#include <spdlog/spdlog.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <csignal>

#include "context/proc_snapshot.h"
#include "notify/caller_lines.h"
#include "kernel/proc_parse.h"
#include "pipeline/record_decoder.h"
#include "probe/abi_check.h"

namespace cmdgate {
namespace {

using rules::Action;

constexpr size_t kDecidedMemory = 1 << 16;

Outcome outcome_of(const Judgement& j, const ExecEvent& e) {
  if (e.has(CG_EXEC_LSM_DENIED)) {
    return Outcome::kDenied;  // execve failed with EPERM
  }
  if (e.has(CG_EXEC_KILLED) && !e.has(CG_EXEC_SIGNAL_FAILED)) {
    return Outcome::kKilled;
  }
  switch (j.response) {
    case Response::kKill:
      return Outcome::kDenied;
    case Response::kPark:
      return Outcome::kParked;
    case Response::kResume:
    case Response::kNone:
      break;
  }
  const rules::Decision& d = j.decision;
  if (d.mode == rules::Mode::kMonitor && d.action == Action::kDeny) {
    return Outcome::kWouldDeny;
  }
  if (d.mode == rules::Mode::kMonitor && d.action == Action::kAsk) {
    return Outcome::kWouldAsk;
  }
  return d.effect() == Action::kAudit ? Outcome::kAudited : Outcome::kAllowed;
}

// Why an ask ended in a denial without a person.
std::string_view denial_note(DecidedBy by) {
  switch (by) {
    case DecidedBy::kUnsafePark:
      return "it needs a person's approval, and it cannot be held safely while it waits (this "
             "host cannot keep a parked process parked, or it ignores SIGHUP)";
    case DecidedBy::kNoApprover:
      return "it needs a person's approval, and no approver is connected";
    default:
      return {};
  }
}

std::string decided_how(bool allow, DecidedBy by, const ApproverInfo* approver) {
  switch (by) {
    case DecidedBy::kApprover:
      return fmt::format("{} by a person (uid {})", allow ? "approved" : "denied",
                         approver != nullptr ? approver->uid : 0);
    case DecidedBy::kTimeout:
      return fmt::format("timed out: {}", allow ? "allowed" : "denied");
    case DecidedBy::kShutdown:
      return fmt::format("{}: cmdgate stopped", allow ? "allowed" : "denied");
    case DecidedBy::kEscape:
      return "denied: it was made to run by someone other than cmdgate";
    default:
      return allow ? "allowed" : "denied";
  }
}

}  // namespace

// A process that ignores SIGHUP (ignored signals survive execve: nohup) survives the SIGHUP the
// kernel sends with the SIGCONT that continues an orphaned process group, and that SIGCONT
// comes from an exiting task, from which no BPF program can kill it (nor can the LSM refuse it:
// the kernel sends it itself). Such a process cannot wait for a person safely.
bool ExecPipeline::ignores_sighup(uint32_t tgid) const {
  auto status = d_.proc.read(tgid, "status");
  // Unreadable: the process is gone, and pinning it fails next.
  return status && (status_mask(*status, "SigIgn:") & (1ull << (SIGHUP - 1))) != 0;
}

bool ExecPipeline::tell(uint32_t tgid, const std::string& line) {
  return d_.caller != nullptr && d_.caller->tell(tgid, line);
}

void ExecPipeline::emit(DecisionRecord rec) {
  d_.log.record(rec);
  if (metrics_ != nullptr) {
    metrics_->observe(rec);
  }
  if (observer_ != nullptr) {
    observer_->on_decision(rec);
  }
}

uint64_t ExecPipeline::latency(const ExecEvent& e) const {
  const uint64_t now = d_.clock.monotonic_ns();
  return now > e.ktime_ns ? now - e.ktime_ns : 0;
}

bool ExecPipeline::already_decided(uint32_t tgid, uint64_t exec_id) const {
  return decided_.contains({tgid, exec_id});
}

void ExecPipeline::mark_decided(uint32_t tgid, uint64_t exec_id) {
  if (decided_.insert({tgid, exec_id}).second) {
    decided_order_.emplace_back(tgid, exec_id);
    if (decided_order_.size() > kDecidedMemory) {
      decided_.erase(decided_order_.front());
      decided_order_.pop_front();
    }
  }
}

void ExecPipeline::on_record(std::span<const std::byte> bytes) {
  ++stats_.records;
  auto record = decode_record(bytes);
  if (!record) {
    ++stats_.decode_errors;
    spdlog::error("dropping a malformed ring-buffer record: {}", record.error().message);
    return;
  }
  std::visit(
      [this](const auto& r) {
        using T = std::decay_t<decltype(r)>;
        if constexpr (std::is_same_v<T, ExecEvent>) {
          on_exec(r);
        } else if constexpr (std::is_same_v<T, ExitEvent>) {
          on_exit(r);
        } else {
          on_escape(r);
        }
      },
      *record);
}

std::shared_ptr<const Snapshot> ExecPipeline::snapshot_for(const ExecEvent& e) {
  if (auto s = d_.policies.find_shared(e.generation)) {
    return s;
  }
  ++stats_.stale_generation;
  return d_.policies.current_shared();
}

void ExecPipeline::judge(const ExecEvent& e, std::shared_ptr<const Snapshot> s, Then then) {
  const uint32_t needs = s->policy->needs();
  auto event = std::make_shared<const ExecEvent>(e);
  const std::vector<rules::HeldTool>& held_tools = s->held_tools;
  d_.files.establish(*event, needs, held_tools,
                     [this, event, s = std::move(s), needs, then = std::move(then)](ExecFiles f) {
                       EvalInput in;
                       d_.contexts.build(*event, needs, std::move(f), in, s->packages.get());
                       then(*event, *s, in);
                     });
}

void ExecPipeline::on_exec(const ExecEvent& e) {
  auto s = snapshot_for(e);
  if (s == nullptr) {
    spdlog::error("exec of {} (pid {}) arrived before any policy was loaded", e.path, e.tgid);
    return;
  }
  if (e.has(CG_EXEC_PARKED) && !e.has(CG_EXEC_SIGNAL_FAILED)) {
    handle_parked(e, std::move(s));
    return;
  }
  if (e.has(CG_EXEC_PARKED)) {
    d_.parked.erase(e.tgid, e.exec_id);  // SIGSTOP failed: the entry parks nothing
  }
  judge(e, std::move(s),
        [this](const ExecEvent& ev, const Snapshot& snap, EvalInput& in) { explain(ev, snap, in); });
}

void ExecPipeline::explain(const ExecEvent& e, const Snapshot& s, EvalInput& in) {
  const Judgement j = cmdgate::decide(e, in, *s.policy);
  ++stats_.decisions;
  if (j.kernel_disagrees) {
    ++stats_.kernel_disagreements;
    spdlog::warn("kernel verdict {} for {} disagrees with rule {} (generation {})",
                 rules::to_string(e.verdict), e.path,
                 j.decision.rule ? j.decision.rule->id : "<default>", e.generation);
  }
  if (j.response == Response::kKill) {
    // Not parked (the kernel's signal failed): it may be running already; kill what is there.
    Fd fd(static_cast<int>(::syscall(SYS_pidfd_open, e.tgid, 0)));
    if (fd) {
      ::syscall(SYS_pidfd_send_signal, fd.get(), SIGKILL, nullptr, 0);
    }
    ++stats_.killed;
  }
  DecisionRecord rec;
  // Refused inside execve, the caller runs on: it gets the reason beside its EPERM.
  if (e.has(CG_EXEC_LSM_DENIED) && !caller_lines::silent(j.decision.rule)) {
    rec.told = caller_lines::denied(in.argv, j.decision.rule);
    rec.told_delivered = tell(e.tgid, rec.told);
  }
  rec.event = &e;
  rec.input = &in;
  rec.judgement = &j;
  rec.decided_by = e.has(CG_EXEC_FAILSAFE)     ? DecidedBy::kFailsafe
                   : e.has(CG_EXEC_LSM_DENIED) ? DecidedBy::kLsm
                                               : DecidedBy::kKernel;
  rec.outcome = outcome_of(j, e);
  rec.latency_ns = latency(e);
  emit(rec);
}

void ExecPipeline::handle_parked(const ExecEvent& e, std::shared_ptr<const Snapshot> s) {
  const std::pair<uint32_t, uint64_t> key{e.tgid, e.exec_id};
  if (already_decided(e.tgid, e.exec_id) || pending_.contains_exec(e.tgid, e.exec_id) ||
      in_flight_.contains(key)) {
    ++stats_.duplicates;
    return;
  }
  auto process = d_.control.pin(e.tgid, e.exec_id);
  if (!process) {
    ++stats_.gone;
    mark_decided(e.tgid, e.exec_id);
    log_unjudged(e, DecidedBy::kGone, Outcome::kGone);
    return;
  }
  in_flight_.insert(key);
  auto handle = std::make_shared<ProcessHandle>(std::move(*process));
  judge(e, std::move(s), [this, handle, key](const ExecEvent& ev, const Snapshot& snap, EvalInput& in) {
    in_flight_.erase(key);
    if (already_decided(ev.tgid, ev.exec_id)) {
      return;  // settled meanwhile (shutdown)
    }
    auto entry = d_.parked.lookup(ev.tgid);
    if (!entry || entry->exec_id != ev.exec_id) {
      ++stats_.gone;  // it died while its files were read
      mark_decided(ev.tgid, ev.exec_id);
      log_unjudged(ev, DecidedBy::kGone, Outcome::kGone);
      return;
    }
    decide_parked(ev, snap, std::move(*handle), in);
  });
}

void ExecPipeline::decide_parked(const ExecEvent& e, const Snapshot& s, ProcessHandle process,
                                 EvalInput& in) {
  Judgement j = cmdgate::decide(e, in, *s.policy);
  ++stats_.decisions;

  DecisionRecord rec;
  rec.event = &e;
  rec.input = &in;
  rec.judgement = &j;
  rec.decided_by = DecidedBy::kDaemon;
  rec.outcome = outcome_of(j, e);

  if (j.response == Response::kPark) {
    if (grants_.allows(e, in.files, d_.clock.steady())) {
      j.response = Response::kResume;
      rec.decided_by = DecidedBy::kGrant;
      rec.outcome = Outcome::kAllowed;
      ++stats_.granted;
    } else if (options_.deny_asks || ignores_sighup(e.tgid)) {
      j.response = Response::kKill;
      rec.decided_by = DecidedBy::kUnsafePark;
      rec.outcome = Outcome::kDenied;
    } else if (options_.fallback_when_no_approver &&
               (observer_ == nullptr || !observer_->approvers_listening())) {
      j.response = j.timeout_action == Action::kAllow ? Response::kResume : Response::kKill;
      rec.decided_by = DecidedBy::kNoApprover;
      rec.outcome = j.timeout_action == Action::kAllow ? Outcome::kAllowed : Outcome::kDenied;
    } else {
      park(e, in, s, std::move(process), std::move(j), rec);
      return;
    }
  }

  switch (j.response) {
    case Response::kPark:
      break;
    case Response::kKill:
      if (!caller_lines::silent(j.decision.rule)) {
        rec.told = caller_lines::denied(in.argv, j.decision.rule, denial_note(rec.decided_by));
        rec.told_delivered = tell(e.tgid, rec.told);
      }
      if (auto st = d_.control.kill(process); !st) {
        spdlog::warn("{}", st.error().message);
      }
      ++stats_.killed;
      break;
    case Response::kResume:
    case Response::kNone:
      if (auto st = d_.control.resume(process); !st) {
        spdlog::warn("{}", st.error().message);
      }
      ++stats_.resumed;
      break;
  }
  mark_decided(e.tgid, e.exec_id);
  rec.latency_ns = latency(e);
  emit(rec);
  maybe_learn(e, in, s);
}

void ExecPipeline::park(const ExecEvent& e, const EvalInput& in, const Snapshot& s,
                        ProcessHandle process, Judgement j, DecisionRecord& rec) {
  PendingRequest r;
  r.process = std::move(process);
  r.event = e;
  r.policy = s.policy;
  r.deadline = d_.clock.steady() + j.ask_timeout;
  r.argv.assign(in.argv.begin(), in.argv.end());
  r.argv_cut = in.files.argv_cut;
  if (!in.files.scripts.empty()) {
    r.script_path = in.files.scripts.front().path;
  }
  r.scripts = in.files.scripts;
  r.exe_sha256 = in.files.exe_sha256;
  if (auto cwd = d_.proc.read_link(e.tgid, "cwd")) {
    r.cwd = std::move(*cwd);
  }
  for (const LineageEntry& a : e.lineage) {
    r.lineage.push_back({a.tgid, a.comm, d_.contexts.exe_path(a.exe, a.tgid)});
  }
  const auto wall = std::chrono::duration_cast<std::chrono::milliseconds>(
                        std::chrono::system_clock::now().time_since_epoch())
                        .count();
  r.parked_unix_ms = wall;
  r.deadline_unix_ms = wall + j.ask_timeout.count();
  r.judgement = std::move(j);
  rec.judgement = &r.judgement;
  rec.latency_ns = latency(e);
  const uint64_t id = pending_.add(std::move(r));
  rec.request_id = id;
  ++stats_.parked;
  const PendingRequest& added = *pending_.find(id);
  // Approvers first: a person's answer is what the process waits for; its own line can follow.
  if (observer_ != nullptr) {
    observer_->on_parked(added);
  }
  rec.told = caller_lines::waiting(in.argv, id, added.judgement.decision.rule,
                                   added.judgement.ask_timeout, added.judgement.timeout_action);
  rec.told_delivered = tell(e.tgid, rec.told);
  emit(rec);
}

Result<Outcome> ExecPipeline::decide(uint64_t id, bool allow, const ApproverInfo& who) {
  auto r = pending_.take(id);
  if (!r) {
    return Error::format("request {} is not pending (decided, timed out or gone)", id);
  }
  allow ? ++stats_.approved : ++stats_.refused;
  finish(*r, allow, DecidedBy::kApprover, &who);
  return allow ? Outcome::kAllowed : Outcome::kDenied;
}

void ExecPipeline::maybe_learn(const ExecEvent& e, const EvalInput& in, const Snapshot& s) {
  if (s.generation != d_.policies.current()->generation || e.has(CG_EXEC_SCRIPT) ||
      e.has(CG_EXEC_NO_INTERP) ||
      e.has(CG_EXEC_MEMFD) || e.has(CG_EXEC_DELETED) || !s.verdicts) {
    return;
  }
  // Trust, like the hash, holds for the identity while its ctime stays: a write to the file
  // changes the ctime, and the kernel then asks again.
  const bool trust_known = (in.exe.unknown & (rules::kUnknownFile | rules::kUnknownTrust)) == 0;
  rules::InodeVerdict v = s.verdicts->learned(
      e.file, in.exe_sha256(), trust_known ? std::optional(in.exe.trust) : std::nullopt);
  if (!s.held_tools.empty() && !in.files.content_compared &&
      !rules::is_held_tool(s.held_tools, e.file)) {
    // Not compared with the held tools (an unlabelled exec), or a copy of one: a labelled
    // process's next exec of it must come here again.
    v.agent_verdict = rules::KernelVerdict::kEvaluate;
    v.agent_check_path = false;
  }
  if (v.verdict == rules::KernelVerdict::kEvaluate &&
      v.agent_verdict == rules::KernelVerdict::kEvaluate) {
    return;
  }
  d_.learner.learn(e.file, e.ctime_sec, e.ctime_nsec, v, s.generation);
  ++stats_.learned;
}

void ExecPipeline::finish(PendingRequest& r, bool allow, DecidedBy by,
                          const ApproverInfo* approver) {
  // Told first: once killed, the process's stderr is gone.
  const std::string told = caller_lines::decided(r.id, decided_how(allow, by, approver));
  const bool delivered = tell(r.event.tgid, told);
  Status st = allow ? d_.control.resume(r.process) : d_.control.kill(r.process);
  if (!st) {
    spdlog::warn("{}", st.error().message);
  }
  allow ? ++stats_.resumed : ++stats_.killed;
  mark_decided(r.event.tgid, r.event.exec_id);
  DecisionRecord rec;
  rec.event = &r.event;
  rec.judgement = &r.judgement;
  rec.decided_by = by;
  rec.outcome = allow ? Outcome::kAllowed : Outcome::kDenied;
  rec.request_id = r.id;
  rec.approver = approver;
  rec.told = told;
  rec.told_delivered = delivered;
  rec.latency_ns = latency(r.event);
  rec.waited_ns = rec.latency_ns;
  emit(rec);
  if (observer_ != nullptr) {
    observer_->on_closed(r, rec.outcome, by, approver);
  }
}

void ExecPipeline::log_unjudged(const ExecEvent& e, DecidedBy by, Outcome outcome) {
  DecisionRecord rec;
  rec.event = &e;
  rec.decided_by = by;
  rec.outcome = outcome;
  rec.latency_ns = latency(e);
  emit(rec);
}

}  // namespace cmdgate
