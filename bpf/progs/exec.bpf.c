// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * cmdgate's exec enforcement on the sched_process_exec tracepoint: by the time it fires the new
 * image is committed but not one of its instructions has run, so SIGKILL and SIGSTOP sent from
 * here take effect before the program starts.
 *
 * Per exec: look the file up in the policy maps (policy.bpf.h), then
 *   ALLOW    -> nothing
 *   AUDIT    -> record, no wakeup
 *   DENY     -> SIGKILL, record, no wakeup
 *   EVALUATE -> parked-map entry, SIGSTOP, record with wakeup; the daemon resumes or kills.
 * An EVALUATE exec whose record cannot be delivered, or whose daemon has stopped heartbeating,
 * is killed or held according to control.delivery_failure: it never runs unevaluated.
 */
#include "vmlinux.h"

#include <bpf/bpf_core_read.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>

#include "lib/interp.bpf.h"
#include "lib/lineage.bpf.h"
#include "lib/maps.bpf.h"
#include "lib/policy.bpf.h"
#include "lib/record.bpf.h"
#include "lib/verdict.bpf.h"

char LICENSE[] SEC("license") = "Dual BSD/GPL";

#define SIGKILL 9
#define SIGSTOP 19

/* The daemon exited (its exit clears daemon_alive at once), or stopped heartbeating (stalled). */
static __always_inline bool cg_daemon_stale(const struct cg_control* ctl, __u64 now) {
  if (!READ_ONCE(ctl->daemon_alive))
    return true;
  __u64 stale_after = READ_ONCE(ctl->stale_after_ns);
  __u64 heartbeat = READ_ONCE(ctl->heartbeat_ns);
  return stale_after && now > heartbeat && now - heartbeat > stale_after;
}

/* An exec of the daemon's executable while no daemon runs (see cg_control.daemon_exe). */
static __always_inline bool cg_starts_a_daemon(const struct cg_file_facts* f) {
  if (READ_ONCE(cg_control.daemon_alive))
    return false;
  for (int i = 0; i < 2; i++) {
    const struct cg_inode_key* k = &cg_control.daemon_exe[i];
    if (k->ino && k->dev == f->dev && k->ino == f->ino)
      return true;
  }
  return false;
}

/* EVALUATE: reserve the record first so the outcome of delivery is known before the one signal
 * (SIGSTOP or the fail-closed SIGKILL) is sent, and the daemon can never see the record before
 * the SIGSTOP is queued. */
static __always_inline void cg_park(struct cg_exec_scratch* s, const struct cg_control* ctl,
                                    __u32 size, __u64 now) {
  struct cg_exec_record* r = &s->rec;
  bool stale = cg_daemon_stale(ctl, now);
  if (stale) {
    r->flags |= CG_EXEC_DAEMON_STALE;
    cg_count(CG_CTR_DAEMON_STALE);
  }

  struct bpf_dynptr ptr;
  bool reserved = bpf_ringbuf_reserve_dynptr(&events, size, 0, &ptr) == 0;
  if (!reserved)
    cg_count(CG_CTR_RINGBUF_FULL);

  bool hold = READ_ONCE(ctl->delivery_failure) == CG_FAIL_HOLD;
  if ((!reserved || stale) && !hold) {
    r->flags |= CG_EXEC_FAILSAFE | CG_EXEC_KILLED;
    cg_count(CG_CTR_FAILSAFE_KILL);
    if (bpf_send_signal(SIGKILL))
      cg_count(CG_CTR_SIGNAL_FAILED);
  } else {
    struct cg_parked p = {.exec_id = r->exec_id, .parked_ns = now};
    if (!reserved) {
      p.flags = CG_PARKED_UNDELIVERED;
      cg_count(CG_CTR_FAILSAFE_HOLD);
    }
    __u32 tgid = r->tgid; /* map keys must be on the stack for older verifiers (6.1) */
    if (bpf_map_update_elem(&parked, &tgid, &p, BPF_ANY)) {
      /* Untracked, it could never be recovered: fail closed. */
      cg_count(CG_CTR_PARK_MAP_FULL);
      r->flags |= CG_EXEC_FAILSAFE | CG_EXEC_KILLED;
      if (bpf_send_signal(SIGKILL))
        cg_count(CG_CTR_SIGNAL_FAILED);
    } else {
      r->flags |= CG_EXEC_PARKED;
      if (stale)
        r->flags |= CG_EXEC_FAILSAFE;
      if (bpf_send_signal(SIGSTOP)) {
        r->flags |= CG_EXEC_SIGNAL_FAILED;
        cg_count(CG_CTR_SIGNAL_FAILED);
      }
    }
  }

  if (reserved) {
    bpf_dynptr_write(&ptr, 0, s, size, 0);
    bpf_ringbuf_submit_dynptr(&ptr, BPF_RB_FORCE_WAKEUP);
  } else {
    bpf_ringbuf_discard_dynptr(&ptr, 0);
  }
}

/* Everything after the verdict, for the execs that produce a record. A global function: the
 * verifier checks it once, on its own, instead of once per path through the verdict logic
 * (which multiplied start-up time). Kernel pointers come in as integers and are read with
 * probe reads. */
struct cg_emit_args {
  struct cg_file_facts facts;
  __u64 bprm; /* struct linux_binprm*, passed as an integer into the global function */
};

__noinline int cg_emit(struct cg_exec_scratch* s, struct cg_emit_args* a, __u8 v,
                       __u32 generation) {
  if (!s || !a)
    return 0;
  struct linux_binprm* bprm = (struct linux_binprm*)a->bprm;
  struct task_struct* task = bpf_get_current_task_btf();
  struct file* file = BPF_CORE_READ(bprm, file);
  __u64 now = bpf_ktime_get_ns();

  struct cg_lookup* l = &s->lookup;
  __builtin_memset(l, 0, sizeof(*l));
  l->inode = BPF_CORE_READ(file, f_inode);
  l->f = a->facts;
  cg_record_path(l, file, task);
  /* The label as cg_exec left it (not passed in: the exec program's deepest call chain, through
   * here, is at the verifier's stack limit). Without storage it is unknown (facts.flags). */
  struct cg_label* label = bpf_task_storage_get(&agent_label, task, 0, 0);
  __u32 size = cg_build_record(s, task, bprm, l, v, generation, now, true,
                               label ? label->agents : 0);

  if (v == CG_VERDICT_EVALUATE) {
    cg_park(s, &cg_control, size, now);
    return 0;
  }
  if (v == CG_VERDICT_DENY) {
    s->rec.flags |= CG_EXEC_KILLED;
    if (bpf_send_signal(SIGKILL)) {
      s->rec.flags |= CG_EXEC_SIGNAL_FAILED;
      cg_count(CG_CTR_SIGNAL_FAILED);
    }
  }
  /* Records that need no decision wait for the daemon's next tick, without a wakeup (a wakeup
   * costs ~20 us per exec); once the ring is half full it is woken, so bursts are not lost. */
  __u64 wake = BPF_RB_NO_WAKEUP;
  if ((s->rec.flags & CG_EXEC_SIGNAL_FAILED) ||
      bpf_ringbuf_query(&events, BPF_RB_AVAIL_DATA) > bpf_ringbuf_query(&events, BPF_RB_RING_SIZE) / 2)
    wake = BPF_RB_FORCE_WAKEUP;
  if (bpf_ringbuf_output(&events, s, size, wake))
    cg_count(CG_CTR_RINGBUF_FULL);
  return 0;
}

SEC("tp_btf/sched_process_exec")
int BPF_PROG(cg_exec, struct task_struct* task, pid_t old_pid, struct linux_binprm* bprm) {
  cg_count(CG_CTR_EXEC);

  __u32 slot = 0;
  const struct cg_policy_meta* meta = cg_active_policy(&slot);
  if (!meta)
    return 0;
  __u32 generation = meta->generation;

  __u32 label_flags = 0;
  __u64 agents = 0;
  if (meta->has_agents) {
    __u64 file = 0;
    bpf_probe_read_kernel(&file, sizeof(file), &bprm->file); /* as a plain integer */
    agents = cg_label_exec(slot, file, &label_flags);
  }
  struct cg_lookup l = {};
  __u8 v = cg_bprm_verdict(bprm, task, meta, slot, true, agents || label_flags, &l);
  l.f.flags |= label_flags;

  /* `ld.so PROGRAM`: the program ld.so will map is named by argv, which only the daemon reads. */
  __u8 loader = cg_loader_verdict(meta, agents || label_flags);
  if (loader && v != CG_VERDICT_DENY && cg_runs_without_interpreter(task, bprm)) {
    l.f.flags |= CG_EXEC_NO_INTERP;
    cg_count(CG_CTR_NO_INTERP);
    v = cg_max_verdict(v, loader);
  }

  /* The daemon must not wait on itself (current is the task that execs), and while none runs
   * a daemon must be able to start. */
  if (v == CG_VERDICT_EVALUATE && (cg_from_daemon() || cg_starts_a_daemon(&l.f)))
    v = CG_VERDICT_AUDIT;

  switch (v) {
    case CG_VERDICT_DENY:
      cg_count(CG_CTR_VERDICT_DENY);
      break;
    case CG_VERDICT_EVALUATE:
      cg_count(CG_CTR_VERDICT_EVALUATE);
      break;
    case CG_VERDICT_AUDIT:
      cg_count(CG_CTR_VERDICT_AUDIT);
      break;
    default:
      cg_count(CG_CTR_VERDICT_ALLOW);
      return 0;
  }

  __u32 zero_key = 0;
  struct cg_exec_scratch* s = bpf_map_lookup_elem(&exec_scratch, &zero_key);
  if (!s) {
    cg_count(CG_CTR_SCRATCH_MISSING);
    /* Cannot describe the exec; still never let a DENY or EVALUATE run. */
    if (v >= CG_VERDICT_EVALUATE && bpf_send_signal(SIGKILL))
      cg_count(CG_CTR_SIGNAL_FAILED);
    return 0;
  }
  struct cg_emit_args args = {.facts = l.f};
  bpf_probe_read_kernel(&args.bprm, sizeof(args.bprm), &ctx[2]); /* as a plain integer */
  return cg_emit(s, &args, v, generation);
}

/* New processes inherit their parent's lineage with the parent prepended. Threads share their
 * leader's and get nothing. */
SEC("tp_btf/sched_process_fork")
int BPF_PROG(cg_fork, struct task_struct* parent, struct task_struct* child) {
  if (child->pid != child->tgid || !cg_is_owner())
    return 0;
  cg_count(CG_CTR_FORK);
  struct task_struct* leader = parent->group_leader; /* direct load keeps it a trusted pointer */
  cg_label_fork(leader, child);
  struct cg_lineage* cl =
      bpf_task_storage_get(&lineage, child, 0, BPF_LOCAL_STORAGE_GET_F_CREATE);
  if (!cl) {
    cg_count(CG_CTR_LINEAGE_FAILED);
    return 0;
  }
  cg_fill_ancestor(&cl->ancestors[0], leader);
  struct cg_lineage* pl = bpf_task_storage_get(&lineage, leader, 0, 0);
  if (pl) {
    __builtin_memcpy(&cl->ancestors[1], &pl->ancestors[0],
                     sizeof(struct cg_ancestor) * (CG_LINEAGE_DEPTH - 1));
    __builtin_memcpy(cl->bloom, pl->bloom, sizeof(cl->bloom));
    __u32 d = pl->depth + 1;
    cl->depth = d > CG_LINEAGE_DEPTH ? CG_LINEAGE_DEPTH : d;
  } else {
    cl->depth = cg_walk_parents(cl->ancestors, 1, leader);
    for (int i = 1; i < CG_LINEAGE_DEPTH; i++)
      if (i < cl->depth)
        cg_bloom_add(cl, cl->ancestors[i].tgid);
  }
  cg_bloom_add(cl, cl->ancestors[0].tgid);
  return 0;
}

/* A parked process that dies (killed, hung up) leaves the daemon's pending list at once. The
 * daemon's own exit, crash included, is known at once too: from then on execs that need it
 * follow delivery_failure, and its tgid, free for reuse, is no longer trusted. */
SEC("tp_btf/sched_process_exit")
int BPF_PROG(cg_exit, struct task_struct* task) {
  if (task->signal->live.counter != 0 || !cg_is_owner())
    return 0;
  __u32 tgid = task->tgid;
  if (tgid == cg_daemon_tgid) {
    WRITE_ONCE(cg_control.daemon_alive, 0);
    cg_count(CG_CTR_DAEMON_EXIT);
    return 0;
  }
  struct cg_parked* p = bpf_map_lookup_elem(&parked, &tgid);
  if (!p)
    return 0;
  struct cg_exit_record rec = {
      .hdr = {.type = CG_RECORD_EXIT, .size = sizeof(rec), .ktime_ns = bpf_ktime_get_ns()},
      .exec_id = p->exec_id,
      .tgid = tgid,
      .exit_code = task->exit_code,
  };
  bpf_map_delete_elem(&parked, &tgid);
  cg_count(CG_CTR_PARKED_EXIT);
  if (bpf_ringbuf_output(&events, &rec, sizeof(rec), BPF_RB_FORCE_WAKEUP))
    cg_count(CG_CTR_RINGBUF_FULL);
  return 0;
}
