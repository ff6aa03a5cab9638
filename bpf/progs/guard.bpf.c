// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * No escape from parking on the tracepoint path. A parked process is stopped; only the daemon may
 * make it run. Two things can make a stopped process run without the daemon:
 *
 *   signal_generate   a SIGCONT from anyone else (its owner's kill -CONT, a shell's fg, the kernel
 *                     continuing an orphaned process group), also before the stop has taken
 *                     effect, when SIGCONT cancels the pending SIGSTOP without waking anything;
 *   sched_waking      a wakeup of the stopped or traced task by anyone else: a ptrace request
 *                     (PTRACE_SEIZE/ATTACH of a stopped task, PTRACE_CONT and friends from a
 *                     ptrace stop, a tracer that suppresses the SIGSTOP) generates no signal.
 *
 * A tracepoint cannot refuse either, so the target is killed instead, with bpf_send_signal_task
 * (a kfunc since 6.13; the daemon loads this object only where it exists, and without it or the
 * BPF LSM, parking is not escape-proof: see [approval] unsafe_park), and the daemon is told once.
 * A fatal signal already on its way (its owner's kill -9) is no escape.
 */
#include "vmlinux.h"

#include <bpf/bpf_core_read.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>

#include "lib/maps.bpf.h"
#include "lib/policy.bpf.h"

char LICENSE[] SEC("license") = "Dual BSD/GPL";

#define SIGKILL 9
#define SIGCONT 18
#define CG_TASK_STOPPED 0x4 /* __TASK_STOPPED */
#define CG_TASK_TRACED 0x8  /* __TASK_TRACED */
#define CG_SIGNAL_GROUP_EXIT 0x4

extern int bpf_send_signal_task(struct task_struct* task, int sig, enum pid_type type,
                                __u64 value) __ksym;

/* Before 6.1 the task state was a long named state. */
struct task_struct___pre61 {
  long state;
} __attribute__((preserve_access_index));

/* Direct loads from the tracepoint's BTF pointer: this runs on every wakeup on the host. */
static __always_inline unsigned int cg_task_state(struct task_struct* t) {
  if (bpf_core_field_exists(t->__state))
    return t->__state;
  return (unsigned int)((struct task_struct___pre61*)t)->state;
}

/* Kills the parked target and reports it, once per parked exec. */
static __always_inline void cg_stop_escape(struct task_struct* task, struct cg_parked* p,
                                           __u32 target, __u32 sig) {
  if (p->flags & CG_PARKED_ESCAPED)
    return;
  __sync_fetch_and_or(&p->flags, CG_PARKED_ESCAPED);
  struct cg_escape_record rec = {
      .hdr = {.type = CG_RECORD_ESCAPE, .size = sizeof(rec), .ktime_ns = bpf_ktime_get_ns()},
      .exec_id = p->exec_id,
      .target_tgid = target,
      .sender_tgid = bpf_get_current_pid_tgid() >> 32,
      .sender_uid = (__u32)bpf_get_current_uid_gid(),
      .signal = sig,
  };
  if (bpf_send_signal_task(task, SIGKILL, PIDTYPE_TGID, 0) == 0) {
    rec.kill_sent = 1;
    cg_count(CG_CTR_ESCAPE_KILLED);
  } else {
    cg_count(CG_CTR_ESCAPE_KILL_FAILED);
  }
  if (bpf_ringbuf_output(&events, &rec, sizeof(rec), BPF_RB_FORCE_WAKEUP))
    cg_count(CG_CTR_RINGBUF_FULL);
}

SEC("tp_btf/signal_generate")
int BPF_PROG(cg_guard_signal, int sig, struct kernel_siginfo* info, struct task_struct* task,
             int group, int result) {
  if (sig != SIGCONT || !cg_is_owner())
    return 0;
  __u32 target = task->tgid;
  struct cg_parked* p = bpf_map_lookup_elem(&parked, &target);
  if (!p || cg_from_daemon())
    return 0;
  cg_stop_escape(task, p, target, sig);
  return 0;
}

/* Runs for every wakeup on the host: one load decides for all but stopped and traced tasks. */
SEC("tp_btf/sched_waking")
int BPF_PROG(cg_guard_wake, struct task_struct* task) {
  unsigned int state = cg_task_state(task);
  if (!(state & (CG_TASK_STOPPED | CG_TASK_TRACED)) || !cg_is_owner())
    return 0;
  __u32 target = task->tgid;
  struct cg_parked* p = bpf_map_lookup_elem(&parked, &target);
  if (!p || cg_from_daemon())
    return 0;
  if (BPF_CORE_READ(task, signal, flags) & CG_SIGNAL_GROUP_EXIT)
    return 0; /* woken to die */
  /* A SIGCONT wakes a stopped, untraced task before signal_generate fires; anything else that
   * wakes a stopped or traced task is ptrace. */
  bool traced = (state & CG_TASK_TRACED) || BPF_CORE_READ(task, ptrace);
  cg_stop_escape(task, p, target, traced ? 0 : SIGCONT);
  return 0;
}
