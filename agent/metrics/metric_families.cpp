#include "metrics/metric_families.h"

#include <algorithm>

#include "probe/abi_check.h"

namespace cmdgate {
namespace {

using enum MetricType;
using enum StatusSource;

constexpr MetricFamily kFamilies[] = {
    // The kernel programs (BPF per-CPU counters).
    {"cmdgate_kernel_execs_total", kCounter, "Execs the kernel programs saw.", ""},
    {"cmdgate_kernel_forks_total", kCounter, "Forks the kernel programs saw.", ""},
    {"cmdgate_kernel_verdicts_total", kCounter,
     "Execs by the verdict the kernel applied alone (evaluate: parked for the daemon).", "verdict"},
    {"cmdgate_kernel_failsafe_total", kCounter,
     "Execs that needed the daemon when it could not be told, by the delivery-failure policy "
     "applied.",
     "policy"},
    {"cmdgate_kernel_daemon_stale_total", kCounter,
     "Execs that found the daemon's heartbeat older than daemon_stale_after.", ""},
    {"cmdgate_kernel_daemon_exits_total", kCounter,
     "Times the daemon that owned the kernel programs exited.", ""},
    {"cmdgate_kernel_errors_total", kCounter,
     "Failures inside the kernel programs, by what failed.", "error"},
    {"cmdgate_kernel_lsm_total", kCounter, "BPF LSM hook events, by event.", "event"},
    {"cmdgate_kernel_parked_exits_total", kCounter, "Parked processes that exited.", ""},
    {"cmdgate_kernel_escapes_killed_total", kCounter,
     "Parked processes made to run by someone else, and killed by the kernel.", ""},
    {"cmdgate_kernel_agent_labels_total", kCounter,
     "Processes that became an agent (by exec, command name or unit).", ""},
    {"cmdgate_kernel_no_interp_total", kCounter,
     "Execs of a shared-object image without interpreter (a loader run directly, static-pie).",
     ""},
    // Lost on the way: each a reason an event or record never reached its reader.
    {"cmdgate_dropped_total", kCounter,
     "Records and events lost on the way, by where (kernel_ringbuf: exec records the kernel "
     "could not send).",
     "where"},
    // The daemon's pipeline.
    {"cmdgate_records_total", kCounter, "Records read from the kernel's ring buffer.", ""},
    {"cmdgate_record_decode_errors_total", kCounter, "Records that could not be decoded.", ""},
    {"cmdgate_daemon_decisions_total", kCounter, "Execs the daemon evaluated.", ""},
    {"cmdgate_process_actions_total", kCounter,
     "What the daemon did to processes, by action (parked, resumed, killed, timed_out: an ask "
     "unanswered in time, gone: exited before the answer).",
     "action"},
    {"cmdgate_approvals_total", kCounter,
     "Answers to parked requests, by result (approved, refused, granted: let through by an "
     "earlier grant).",
     "result"},
    {"cmdgate_duplicate_records_total", kCounter,
     "Records of a parked exec that was already decided or being decided.", ""},
    {"cmdgate_recovered_total", kCounter,
     "Parked processes found without a record and decided from /proc.", ""},
    {"cmdgate_kernel_disagreements_total", kCounter,
     "Execs where the kernel's verdict and the daemon's decision differed.", ""},
    {"cmdgate_stale_generation_total", kCounter,
     "Records of a policy generation the daemon no longer holds, judged by the current one.", ""},
    {"cmdgate_learned_total", kCounter, "Per-file verdicts the daemon taught the kernel.", ""},
    {"cmdgate_escapes_total", kCounter,
     "Parked processes made to run by someone other than the daemon.", ""},
    // The caller, notify programs, the approval socket, authentication.
    {"cmdgate_caller_messages_total", kCounter,
     "Messages to the stderr of denied or held processes, by result.", "result"},
    {"cmdgate_notify_total", kCounter, "Notify programs run for new requests, by result.",
     "result"},
    {"cmdgate_socket_connections_total", kCounter, "Connections to the approval socket.", ""},
    {"cmdgate_socket_protocol_errors_total", kCounter,
     "Approval socket messages that broke the protocol.", ""},
    {"cmdgate_socket_refused_decisions_total", kCounter,
     "Approvals or denials over the socket that were refused.", ""},
    {"cmdgate_socket_slow_disconnects_total", kCounter,
     "Approval socket clients disconnected for reading too slowly.", ""},
    {"cmdgate_auth_total", kCounter, "Approver authentications (PAM), by result.", "result"},
    // The daemon's state.
    {"cmdgate_parked", kGauge, "Processes parked now, waiting for a decision.", ""},
    {"cmdgate_policy_generation", kGauge, "Generation of the policy in force.", ""},
    {"cmdgate_rules", kGauge, "Rules in the policy in force.", ""},
    {"cmdgate_reloads_total", kCounter, "Successful policy reloads.", ""},
    {"cmdgate_reload_failures_total", kCounter,
     "Policy reloads that failed (the previous policy stayed in force).", ""},
    {"cmdgate_approval_clients", kGauge, "Clients connected to the approval socket.", ""},
    {"cmdgate_uptime_seconds", kGauge,
     "Seconds since the daemon started; it stops advancing when the event loop stalls.", ""},
    // DecisionMetrics.
    {kDecisionsFamily, kCounter, "Exec decisions by rule action, outcome and rule id.",
     "action,outcome,rule"},
    {kLatencyFamily, kHistogram, "From the kernel's record to the daemon's verdict.", "le"},
    {kUnmappedFamily, kCounter,
     "Values of cmdgate status that this build exports under no family of their own, by their "
     "status name (none is expected).",
     "name"},
};

constexpr MetricSeries kSeries[] = {
    // probe::counter_name, prefixed "kernel_" by the daemon's status().
    {kCounters, "kernel_exec", "cmdgate_kernel_execs_total", ""},
    {kCounters, "kernel_kernel_allow", "cmdgate_kernel_verdicts_total", "allow"},
    {kCounters, "kernel_kernel_audit", "cmdgate_kernel_verdicts_total", "audit"},
    {kCounters, "kernel_kernel_evaluate", "cmdgate_kernel_verdicts_total", "evaluate"},
    {kCounters, "kernel_kernel_deny", "cmdgate_kernel_verdicts_total", "deny"},
    {kCounters, "kernel_ringbuf_full", "cmdgate_dropped_total", "kernel_ringbuf"},
    {kCounters, "kernel_scratch_missing", "cmdgate_kernel_errors_total", "scratch_missing"},
    {kCounters, "kernel_lineage_failed", "cmdgate_kernel_errors_total", "lineage_failed"},
    {kCounters, "kernel_path_truncated", "cmdgate_kernel_errors_total", "path_truncated"},
    {kCounters, "kernel_args_read_failed", "cmdgate_kernel_errors_total", "args_read_failed"},
    {kCounters, "kernel_park_map_full", "cmdgate_kernel_errors_total", "park_map_full"},
    {kCounters, "kernel_signal_failed", "cmdgate_kernel_errors_total", "signal_failed"},
    {kCounters, "kernel_failsafe_kill", "cmdgate_kernel_failsafe_total", "kill"},
    {kCounters, "kernel_failsafe_hold", "cmdgate_kernel_failsafe_total", "hold"},
    {kCounters, "kernel_daemon_stale", "cmdgate_kernel_daemon_stale_total", ""},
    {kCounters, "kernel_parked_exit", "cmdgate_kernel_parked_exits_total", ""},
    {kCounters, "kernel_escape_killed", "cmdgate_kernel_escapes_killed_total", ""},
    {kCounters, "kernel_escape_kill_failed", "cmdgate_kernel_errors_total", "escape_kill_failed"},
    {kCounters, "kernel_fork", "cmdgate_kernel_forks_total", ""},
    {kCounters, "kernel_lsm_bprm_check", "cmdgate_kernel_lsm_total", "bprm_check"},
    {kCounters, "kernel_lsm_deny", "cmdgate_kernel_lsm_total", "deny"},
    {kCounters, "kernel_lsm_signal_refused", "cmdgate_kernel_lsm_total", "signal_refused"},
    {kCounters, "kernel_lsm_ptrace_refused", "cmdgate_kernel_lsm_total", "ptrace_refused"},
    {kCounters, "kernel_scratch_race", "cmdgate_kernel_errors_total", "scratch_race"},
    {kCounters, "kernel_no_interp", "cmdgate_kernel_no_interp_total", ""},
    {kCounters, "kernel_daemon_exit", "cmdgate_kernel_daemon_exits_total", ""},
    {kCounters, "kernel_label_failed", "cmdgate_kernel_errors_total", "label_failed"},
    {kCounters, "kernel_label_unknown", "cmdgate_kernel_errors_total", "label_unknown"},
    {kCounters, "kernel_label_set", "cmdgate_kernel_agent_labels_total", ""},
    // PipelineStats::each.
    {kCounters, "records", "cmdgate_records_total", ""},
    {kCounters, "decode_errors", "cmdgate_record_decode_errors_total", ""},
    {kCounters, "decisions", "cmdgate_daemon_decisions_total", ""},
    {kCounters, "resumed", "cmdgate_process_actions_total", "resumed"},
    {kCounters, "killed", "cmdgate_process_actions_total", "killed"},
    {kCounters, "parked", "cmdgate_process_actions_total", "parked"},
    {kCounters, "timed_out", "cmdgate_process_actions_total", "timed_out"},
    {kCounters, "gone", "cmdgate_process_actions_total", "gone"},
    {kCounters, "duplicates", "cmdgate_duplicate_records_total", ""},
    {kCounters, "recovered", "cmdgate_recovered_total", ""},
    {kCounters, "kernel_disagreements", "cmdgate_kernel_disagreements_total", ""},
    {kCounters, "stale_generation", "cmdgate_stale_generation_total", ""},
    {kCounters, "learned", "cmdgate_learned_total", ""},
    {kCounters, "approved", "cmdgate_approvals_total", "approved"},
    {kCounters, "refused", "cmdgate_approvals_total", "refused"},
    {kCounters, "granted", "cmdgate_approvals_total", "granted"},
    {kCounters, "escapes", "cmdgate_escapes_total", ""},
    // The daemon's status().
    {kCounters, "caller_told", "cmdgate_caller_messages_total", "told"},
    {kCounters, "caller_lost", "cmdgate_caller_messages_total", "lost"},
    {kCounters, "caller_no_stderr", "cmdgate_caller_messages_total", "no_stderr"},
    {kCounters, "notify_started", "cmdgate_notify_total", "started"},
    {kCounters, "notify_failed", "cmdgate_notify_total", "failed"},
    {kCounters, "notify_timed_out", "cmdgate_notify_total", "timed_out"},
    {kCounters, "notify_skipped", "cmdgate_notify_total", "skipped"},
    {kCounters, "journal_dropped", "cmdgate_dropped_total", "journal"},
    {kCounters, "socket_connections", "cmdgate_socket_connections_total", ""},
    {kCounters, "socket_protocol_errors", "cmdgate_socket_protocol_errors_total", ""},
    {kCounters, "socket_refused_decisions", "cmdgate_socket_refused_decisions_total", ""},
    {kCounters, "socket_events_dropped", "cmdgate_dropped_total", "socket_events"},
    {kCounters, "socket_slow_disconnects", "cmdgate_socket_slow_disconnects_total", ""},
    {kCounters, "auth_succeeded", "cmdgate_auth_total", "succeeded"},
    {kCounters, "auth_failed", "cmdgate_auth_total", "failed"},
    {kCounters, "auth_abandoned", "cmdgate_auth_total", "abandoned"},
    {kCounters, "auth_refused", "cmdgate_auth_total", "refused"},
    {kFields, "parked", "cmdgate_parked", ""},
    {kFields, "generation", "cmdgate_policy_generation", ""},
    {kFields, "rules", "cmdgate_rules", ""},
    {kFields, "reloads", "cmdgate_reloads_total", ""},
    {kFields, "reload_failures", "cmdgate_reload_failures_total", ""},
    {kFields, "clients", "cmdgate_approval_clients", ""},
    {kFields, "uptime_seconds", "cmdgate_uptime_seconds", ""},
};

// A kernel counter added without a series of its own fails the build here.
static_assert(std::count_if(std::begin(kSeries), std::end(kSeries), [](const MetricSeries& s) {
                return s.status_name.starts_with("kernel_") &&
                       s.status_name != "kernel_disagreements";
              }) == CG_CTR_MAX);

}  // namespace

std::span<const MetricFamily> metric_families() { return kFamilies; }
std::span<const MetricSeries> metric_series() { return kSeries; }

const MetricFamily* find_family(std::string_view name) {
  const auto it = std::ranges::find(kFamilies, name, &MetricFamily::name);
  return it == std::end(kFamilies) ? nullptr : &*it;
}

const MetricSeries* find_series(StatusSource source, std::string_view status_name) {
  const auto it = std::ranges::find_if(kSeries, [&](const MetricSeries& s) {
    return s.source == source && s.status_name == status_name;
  });
  return it == std::end(kSeries) ? nullptr : &*it;
}

std::string_view to_string(MetricType t) {
  switch (t) {
    case kCounter: return "counter";
    case kGauge: return "gauge";
    case kHistogram: return "histogram";
  }
  return "untyped";
}

}  // namespace cmdgate
