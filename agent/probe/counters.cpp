#include "probe/counters.h"

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include <vector>

#include "common/errno_error.h"

namespace cmdgate::probe {

Result<CounterValues> read_counters(int counters_fd) {
  const int cpus = libbpf_num_possible_cpus();
  if (cpus <= 0) {
    return Error::format("cannot count possible CPUs: {}", cpus);
  }
  std::vector<uint64_t> per_cpu(static_cast<size_t>(cpus));
  CounterValues out{};
  for (uint32_t i = 0; i < CG_CTR_MAX; ++i) {
    if (bpf_map_lookup_elem(counters_fd, &i, per_cpu.data()) != 0) {
      return errno_error("reading BPF counters");
    }
    for (uint64_t v : per_cpu) {
      out[i] += v;
    }
  }
  return out;
}

std::string_view counter_name(cg_counter c) {
  switch (c) {
    case CG_CTR_EXEC: return "exec";
    case CG_CTR_VERDICT_ALLOW: return "kernel_allow";
    case CG_CTR_VERDICT_AUDIT: return "kernel_audit";
    case CG_CTR_VERDICT_EVALUATE: return "kernel_evaluate";
    case CG_CTR_VERDICT_DENY: return "kernel_deny";
    case CG_CTR_RINGBUF_FULL: return "ringbuf_full";
    case CG_CTR_SCRATCH_MISSING: return "scratch_missing";
    case CG_CTR_LINEAGE_FAILED: return "lineage_failed";
    case CG_CTR_PATH_TRUNCATED: return "path_truncated";
    case CG_CTR_ARGS_READ_FAILED: return "args_read_failed";
    case CG_CTR_PARK_MAP_FULL: return "park_map_full";
    case CG_CTR_SIGNAL_FAILED: return "signal_failed";
    case CG_CTR_FAILSAFE_KILL: return "failsafe_kill";
    case CG_CTR_FAILSAFE_HOLD: return "failsafe_hold";
    case CG_CTR_DAEMON_STALE: return "daemon_stale";
    case CG_CTR_PARKED_EXIT: return "parked_exit";
    case CG_CTR_ESCAPE_KILLED: return "escape_killed";
    case CG_CTR_ESCAPE_KILL_FAILED: return "escape_kill_failed";
    case CG_CTR_FORK: return "fork";
    case CG_CTR_LSM_BPRM_CHECK: return "lsm_bprm_check";
    case CG_CTR_LSM_DENY: return "lsm_deny";
    case CG_CTR_LSM_SIGNAL_REFUSED: return "lsm_signal_refused";
    case CG_CTR_LSM_PTRACE_REFUSED: return "lsm_ptrace_refused";
    case CG_CTR_SCRATCH_RACE: return "scratch_race";
    case CG_CTR_NO_INTERP: return "no_interp";
    case CG_CTR_DAEMON_EXIT: return "daemon_exit";
    case CG_CTR_LABEL_FAILED: return "label_failed";
    case CG_CTR_LABEL_UNKNOWN: return "label_unknown";
    case CG_CTR_LABEL_SET: return "label_set";
    case CG_CTR_MAX: break;
  }
  return "unknown";
}

}  // namespace cmdgate::probe
