// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * cmdgate's BPF LSM programs, loaded next to exec.bpf.c on kernels whose active LSM list has
 * "bpf". The loader makes every map here (and .bss: control and per-slot metadata) the exec
 * object's own, so both consult one policy.
 *
 *   bprm_check_security    DENY -> -EPERM inside execve: nothing is committed, the caller runs on.
 *                          Runs once per binfmt level: first with the file named by execve (a
 *                          script's own identity), then with its interpreter. ALLOW, AUDIT and
 *                          EVALUATE pass: the exec tracepoint audits and parks after the commit,
 *                          where argv can be read.
 *   task_kill              SIGCONT to a parked process only from the daemon (SIGKILL and stop
 *                          signals cannot make it run and stay allowed); no signal but 0 to the
 *                          daemon from a sender whose euid is not 0 (the kernel's own check stops
 *                          most of those already; this stops the ones holding CAP_KILL).
 *   ptrace_access_check    no ptrace attach to a parked process (PTRACE_CONT would resume it) or
 *                          to the daemon, except by the daemon or (for the daemon) root.
 */
#include "vmlinux.h"

#include <bpf/bpf_core_read.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>

#include "lib/maps.bpf.h"
#include "lib/policy.bpf.h"
#include "lib/record.bpf.h"
#include "lib/verdict.bpf.h"

char LICENSE[] SEC("license") = "Dual BSD/GPL";

#define EPERM 1
#define SIGCONT 18
#define PTRACE_MODE_ATTACH 0x02

/* Signals and ptrace aimed at the live daemon; once it has exited its tgid may name another
 * process, which gets no special protection. */
static __always_inline bool cg_is_live_daemon(__u32 tgid) {
  return tgid == cg_daemon_tgid && READ_ONCE(cg_control.daemon_alive);
}

static __always_inline bool cg_is_parked(__u32 tgid) {
  return bpf_map_lookup_elem(&parked, &tgid) != NULL;
}

/* Effective uid of the sender, in the initial user namespace (root in a container is not root). */
static __always_inline __u32 cg_sender_euid(const struct cred* cred) {
  if (cred)
    return BPF_CORE_READ(cred, euid.val);
  struct task_struct* task = bpf_get_current_task_btf();
  return BPF_CORE_READ(task, cred, euid.val);
}

/* bprm->buf holds the file's first bytes before any LSM is asked. */
static __always_inline bool cg_is_elf(struct linux_binprm* bprm) {
  return bprm->buf[0] == 0x7f && bprm->buf[1] == 'E' && bprm->buf[2] == 'L' && bprm->buf[3] == 'F';
}

/* The refused exec, for the daemon's log. Best effort: the refusal stands without it. The
 * record is checked after its copy into the ring: a preempting exec may have reused the scratch
 * it was built in (cg_path_intact). */
static __always_inline void cg_report_denial(struct linux_binprm* bprm, struct task_struct* task,
                                             struct cg_lookup* l, __u32 generation) {
  __u32 zero = 0;
  struct cg_exec_scratch* s = bpf_map_lookup_elem(&exec_scratch, &zero);
  if (!s) {
    cg_count(CG_CTR_SCRATCH_MISSING);
    return;
  }
  l->f.flags |= CG_EXEC_LSM_DENIED;
  cg_record_path(l, bprm->file, task);
  __u32 size = cg_build_record(s, task, bprm, l, CG_VERDICT_DENY, generation,
                               bpf_ktime_get_ns(), false, 0);
  struct bpf_dynptr ptr;
  if (bpf_ringbuf_reserve_dynptr(&events, size, 0, &ptr)) {
    cg_count(CG_CTR_RINGBUF_FULL);
    bpf_ringbuf_discard_dynptr(&ptr, 0);
    return;
  }
  bpf_dynptr_write(&ptr, 0, s, size, 0);
  if (!cg_path_intact(&l->path)) {
    cg_count(CG_CTR_SCRATCH_RACE);
    bpf_ringbuf_discard_dynptr(&ptr, 0);
    return;
  }
  /* With a wakeup: the caller lives on and is told why beside its EPERM, while it still
   * reads. */
  bpf_ringbuf_submit_dynptr(&ptr, BPF_RB_FORCE_WAKEUP);
}

SEC("lsm/bprm_check_security")
int BPF_PROG(cg_bprm_check, struct linux_binprm* bprm, int ret) {
  if (ret)
    return ret; /* an earlier LSM refused: its answer stands */
  cg_count(CG_CTR_LSM_BPRM_CHECK);

  __u32 slot = 0;
  const struct cg_policy_meta* meta = cg_active_policy(&slot);
  if (!meta)
    return 0;
  __u32 generation = meta->generation;

  struct task_struct* task = bpf_get_current_task_btf();
  struct cg_lookup l = {};
  /* The label the exec would give is known only after the commit (comm, unit). The agent
   * verdicts never deny where the unlabelled ones would not: they add the outcomes of `agent`
   * rules to the same scan, and DENY needs every outcome to deny. */
  if (cg_bprm_verdict(bprm, task, meta, slot, cg_is_elf(bprm), meta->has_agents, &l) !=
      CG_VERDICT_DENY)
    return 0;

  if (meta->has_agents)
    l.f.flags |= CG_EXEC_AGENT_UNKNOWN; /* not looked up: the exec is refused either way */
  cg_count(CG_CTR_LSM_DENY);
  cg_report_denial(bprm, task, &l, generation);
  return -EPERM;
}

SEC("lsm/task_kill")
int BPF_PROG(cg_task_kill, struct task_struct* p, struct kernel_siginfo* info, int sig,
             const struct cred* cred, int ret) {
  if (ret)
    return ret;
  if (sig == 0 || !cg_is_owner() || cg_from_daemon())
    return 0; /* signal 0 only probes for existence */
  __u32 target = p->tgid;
  if (cg_is_live_daemon(target)) {
    if (cg_sender_euid(cred) == 0)
      return 0;
  } else if (sig != SIGCONT || !cg_is_parked(target)) {
    /* Only SIGCONT makes a stopped process run; SIGKILL and the stop signals cannot, so a
     * parked process stays killable by its owner. */
    return 0;
  }
  cg_count(CG_CTR_LSM_SIGNAL_REFUSED);
  return -EPERM;
}

SEC("lsm/ptrace_access_check")
int BPF_PROG(cg_ptrace_check, struct task_struct* child, unsigned int mode, int ret) {
  if (ret)
    return ret;
  if (!(mode & PTRACE_MODE_ATTACH) || !cg_is_owner() || cg_from_daemon())
    return 0; /* reads of /proc/<pid>/stat and the like stay allowed */
  __u32 target = child->tgid;
  if (cg_is_live_daemon(target)) {
    if (cg_sender_euid(NULL) == 0)
      return 0;
  } else if (!cg_is_parked(target)) {
    return 0;
  }
  cg_count(CG_CTR_LSM_PTRACE_REFUSED);
  return -EPERM;
}
