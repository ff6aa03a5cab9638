// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * No escape from parking: a SIGCONT that reaches a parked process from anyone but the daemon (its
 * owner's kill -CONT, a shell's fg, the kernel continuing an orphaned process group) would let
 * it run unapproved. A tracepoint cannot refuse a signal, so this kills the target instead, with
 * bpf_send_signal_task (a kfunc since 6.13; the daemon loads this object only where it exists
 * and otherwise catches escapes from user space), and tells the daemon.
 */
#include "vmlinux.h"

#include <bpf/bpf_core_read.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>

#include "lib/maps.bpf.h"

char LICENSE[] SEC("license") = "Dual BSD/GPL";

#define SIGKILL 9
#define SIGCONT 18

const volatile __u32 cg_abi_version = CG_ABI_VERSION;
const volatile __u32 cg_daemon_tgid = 0;

extern int bpf_send_signal_task(struct task_struct* task, int sig, enum pid_type type,
                                __u64 value) __ksym;

SEC("tp_btf/signal_generate")
int BPF_PROG(cg_guard_signal, int sig, struct kernel_siginfo* info, struct task_struct* task,
             int group, int result) {
  if (sig != SIGCONT)
    return 0;
  __u32 target = task->tgid;
  struct cg_parked* p = bpf_map_lookup_elem(&parked, &target);
  if (!p)
    return 0;
  __u32 sender = bpf_get_current_pid_tgid() >> 32;
  if (sender == cg_daemon_tgid)
    return 0;

  struct cg_escape_record rec = {
      .hdr = {.type = CG_RECORD_ESCAPE, .size = sizeof(rec), .ktime_ns = bpf_ktime_get_ns()},
      .exec_id = p->exec_id,
      .target_tgid = target,
      .sender_tgid = sender,
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
  return 0;
}
