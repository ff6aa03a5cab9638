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

#include "lib/inode.bpf.h"
#include "lib/lineage.bpf.h"
#include "lib/maps.bpf.h"
#include "lib/path.bpf.h"
#include "lib/policy.bpf.h"

#ifndef READ_ONCE
#define READ_ONCE(x) (*(const volatile typeof(x)*)&(x))
#endif

char LICENSE[] SEC("license") = "Dual BSD/GPL";

#define SIGKILL 9
#define SIGSTOP 19

/* Read back by the daemon, which refuses an object built against another ABI. */
const volatile __u32 cg_abi_version = CG_ABI_VERSION;
/* The daemon's own execs are never parked: it must not wait on itself. */
const volatile __u32 cg_daemon_tgid = 0;

struct cg_exec_scratch {
  struct cg_exec_record rec;
  char data[3 * CG_PATH_MAX + CG_ARGS_MAX]; /* masked offsets keep every write inside */
};

struct {
  __uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
  __uint(max_entries, 1);
  __type(key, __u32);
  __type(value, struct cg_exec_scratch);
} exec_scratch SEC(".maps");

#define CG_OFF_MASK (2 * CG_PATH_MAX - 1)

static __always_inline bool cg_is_memfd(struct file* file, __u32 nlink) {
  if (nlink != 0)
    return false;
  char name[6] = {};
  bpf_probe_read_kernel(name, sizeof(name), file->f_path.dentry->d_name.name);
  return name[0] == 'm' && name[1] == 'e' && name[2] == 'm' && name[3] == 'f' && name[4] == 'd' &&
         name[5] == ':';
}

static __always_inline __u32 cg_copy_lineage(struct cg_exec_record* rec, struct task_struct* task) {
  struct cg_lineage* l = bpf_task_storage_get(&lineage, task, 0, 0);
  if (l) {
    __builtin_memcpy(rec->lineage, l->ancestors, sizeof(rec->lineage));
    rec->lineage_depth = l->depth > CG_LINEAGE_DEPTH ? CG_LINEAGE_DEPTH : l->depth;
    return 0;
  }
  __builtin_memset(rec->lineage, 0, sizeof(rec->lineage));
  rec->lineage_depth = cg_walk_parents(rec->lineage, 0, task);
  return CG_EXEC_LINEAGE_FROM_TASK;
}

/* Fills the record and its variable part; returns the record's total size. Probe reads here:
 * direct BTF loads multiply the verifier's states (start-up time), and this path already pays
 * for a ring-buffer write. */
static __always_inline __u32 cg_build_record(struct cg_exec_scratch* s, struct task_struct* task,
                                             struct linux_binprm* bprm, struct inode* inode,
                                             const struct cg_file_facts* f,
                                             const struct cg_path* path, __u8 verdict,
                                             __u32 generation, __u64 now) {
  struct cg_exec_record* r = &s->rec;
  __u32 flags = f->flags;

  r->hdr.type = CG_RECORD_EXEC;
  r->hdr.flags = 0;
  r->hdr.ktime_ns = now;
  r->exec_id = now;
  r->start_boottime_ns = BPF_CORE_READ(task, start_boottime);
  r->cgroup_id = bpf_get_current_cgroup_id();
  r->dev = f->dev;
  r->ino = f->ino;
  r->size = BPF_CORE_READ(inode, i_size);
  cg_inode_mtime(inode, &r->mtime_sec, &r->mtime_nsec);
  r->ctime_sec = f->ctime_sec;
  r->ctime_nsec = f->ctime_nsec;
  r->pid = BPF_CORE_READ(task, pid);
  r->tgid = BPF_CORE_READ(task, tgid);
  r->ppid = BPF_CORE_READ(task, real_parent, tgid);
  r->sid = BPF_CORE_READ(task, signal, pids[PIDTYPE_SID], numbers[0].nr);
  r->uid = BPF_CORE_READ(task, real_cred, uid.val);
  r->gid = BPF_CORE_READ(task, real_cred, gid.val);
  r->euid = BPF_CORE_READ(task, real_cred, euid.val);
  r->egid = BPF_CORE_READ(task, real_cred, egid.val);
  r->policy_generation = generation;
  r->argc = BPF_CORE_READ(bprm, argc);
  r->verdict = verdict;
  r->_pad0 = 0;
  BPF_CORE_READ_STR_INTO(&r->comm, task, comm);
  if (BPF_CORE_READ(task, signal, tty))
    flags |= CG_EXEC_TTY;
  flags |= cg_copy_lineage(r, task);

  /* path */
  __u32 off = path->len > CG_PATH_MAX ? CG_PATH_MAX : path->len;
  bpf_probe_read_kernel(s->data, off & (CG_PATH_MAX - 1 + CG_PATH_MAX), path->str);
  r->path_len = off;
  if (path->truncated)
    flags |= CG_EXEC_PATH_TRUNCATED;

  /* filename and interpreter, for scripts only */
  r->filename_len = 0;
  r->interp_len = 0;
  if (flags & CG_EXEC_SCRIPT) {
    long n = bpf_probe_read_kernel_str(&s->data[off & CG_OFF_MASK], CG_FILENAME_MAX,
                                       BPF_CORE_READ(bprm, filename));
    if (n > 0) {
      r->filename_len = n;
      if (n == CG_FILENAME_MAX)
        flags |= CG_EXEC_FILENAME_TRUNCATED;
      off += n;
    }
    n = bpf_probe_read_kernel_str(&s->data[off & CG_OFF_MASK], CG_INTERP_MAX,
                                  BPF_CORE_READ(bprm, interp));
    if (n > 0) {
      r->interp_len = n;
      off += n;
    }
  }

  /* argv, straight from the new image's stack */
  struct mm_struct* mm = BPF_CORE_READ(task, mm);
  unsigned long arg_start = BPF_CORE_READ(mm, arg_start);
  unsigned long arg_end = BPF_CORE_READ(mm, arg_end);
  __u64 want = arg_end > arg_start ? arg_end - arg_start : 0;
  if (want > CG_ARGS_MAX) {
    want = CG_ARGS_MAX;
    flags |= CG_EXEC_ARGS_TRUNCATED;
  }
  r->args_len = 0;
  if (want) {
    if (bpf_probe_read_user(&s->data[off & CG_OFF_MASK], want, (void*)arg_start) == 0) {
      r->args_len = want;
      off += want;
    } else {
      cg_count(CG_CTR_ARGS_READ_FAILED);
    }
  }

  r->flags = flags;
  __u32 size = sizeof(*r) + off;
  if (size > sizeof(*s))
    size = sizeof(*s);
  r->hdr.size = size;
  return size;
}

static __always_inline bool cg_daemon_stale(const struct cg_control* ctl, __u64 now) {
  __u64 stale_after = READ_ONCE(ctl->stale_after_ns);
  __u64 heartbeat = READ_ONCE(ctl->heartbeat_ns);
  return stale_after && now > heartbeat && now - heartbeat > stale_after;
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
    if (bpf_map_update_elem(&parked, &r->tgid, &p, BPF_ANY)) {
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
  struct cg_file_facts* f = &a->facts;
  struct linux_binprm* bprm = (struct linux_binprm*)a->bprm;
  struct task_struct* task = bpf_get_current_task_btf();
  struct file* file = BPF_CORE_READ(bprm, file);
  struct inode* inode = BPF_CORE_READ(file, f_inode);
  __u64 now = bpf_ktime_get_ns();

  struct cg_path path = {};
  if (!cg_resolve_path(file, task, &path)) {
    path.str = "";
    path.len = 1;
    path.truncated = true;
  }
  if (path.truncated)
    cg_count(CG_CTR_PATH_TRUNCATED);
  __u32 size = cg_build_record(s, task, bprm, inode, f, &path, v, generation, now);

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
  __u64 wake = (s->rec.flags & CG_EXEC_SIGNAL_FAILED) ? BPF_RB_FORCE_WAKEUP : BPF_RB_NO_WAKEUP;
  if (bpf_ringbuf_output(&events, s, size, wake))
    cg_count(CG_CTR_RINGBUF_FULL);
  return 0;
}

SEC("tp_btf/sched_process_exec")
int BPF_PROG(cg_exec, struct task_struct* task, pid_t old_pid, struct linux_binprm* bprm) {
  cg_count(CG_CTR_EXEC);

  const struct cg_control* ctl = &cg_control;
  if (!READ_ONCE(ctl->enabled))
    return 0;
  /* Read the slot once: every lookup below uses this one policy. */
  __u32 slot = READ_ONCE(ctl->active_slot) & (CG_POLICY_SLOTS - 1);
  const struct cg_policy_meta* meta = &cg_policy_meta[slot];
  __u32 generation = meta->generation;

  /* Direct loads from BTF pointers: this is the path every exec takes. */
  struct file* file = bprm->file;
  struct inode* inode = file->f_inode;
  struct cg_file_facts f = {
      .dev = inode->i_sb->s_dev,
      .ino = inode->i_ino,
  };
  cg_inode_ctime(inode, &f.ctime_sec, &f.ctime_nsec);
  __u32 nlink = inode->__i_nlink;
  if (cg_is_memfd(file, nlink))
    f.flags |= CG_EXEC_MEMFD;
  else if (nlink == 0)
    f.flags |= CG_EXEC_DELETED;
  if (bprm->filename != bprm->interp)
    f.flags |= CG_EXEC_SCRIPT;

  __u8 v = CG_VERDICT_NONE;
  if ((f.flags & CG_EXEC_MEMFD) && meta->memfd_verdict) {
    v = meta->memfd_verdict;
  } else if ((f.flags & CG_EXEC_DELETED) && meta->deleted_verdict) {
    v = meta->deleted_verdict;
  } else {
    __u8 vflags = 0;
    v = cg_identity_verdict(meta, slot, &f, &vflags);
    if (meta->has_paths && (v == CG_VERDICT_NONE || (vflags & CG_VF_CHECK_PATH))) {
      struct cg_path path = {};
      __u8 pv = cg_resolve_path(file, task, &path) ? cg_path_verdict(slot, &path)
                                                   : CG_VERDICT_EVALUATE;
      if (pv != CG_VERDICT_NONE)
        v = v == CG_VERDICT_NONE ? pv : CG_VERDICT_EVALUATE;
    }
    if (v == CG_VERDICT_NONE)
      v = meta->default_verdict;
  }
  if (f.flags & CG_EXEC_SCRIPT)
    v = cg_max_verdict(v, meta->script_verdict);

  if (v == CG_VERDICT_EVALUATE && task->tgid == cg_daemon_tgid)
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
  struct cg_emit_args args = {.facts = f};
  bpf_probe_read_kernel(&args.bprm, sizeof(args.bprm), &ctx[2]); /* as a plain integer */
  return cg_emit(s, &args, v, generation);
}

/* New processes inherit their parent's lineage with the parent prepended. Threads share their
 * leader's and get nothing. */
SEC("tp_btf/sched_process_fork")
int BPF_PROG(cg_fork, struct task_struct* parent, struct task_struct* child) {
  if (child->pid != child->tgid)
    return 0;
  cg_count(CG_CTR_FORK);
  struct cg_lineage* cl =
      bpf_task_storage_get(&lineage, child, 0, BPF_LOCAL_STORAGE_GET_F_CREATE);
  if (!cl) {
    cg_count(CG_CTR_LINEAGE_FAILED);
    return 0;
  }
  struct task_struct* leader = parent->group_leader; /* direct load keeps it a trusted pointer */
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

/* A parked process that dies (killed, hung up) leaves the daemon's pending list at once. */
SEC("tp_btf/sched_process_exit")
int BPF_PROG(cg_exit, struct task_struct* task) {
  if (task->signal->live.counter != 0)
    return 0;
  __u32 tgid = task->tgid;
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
