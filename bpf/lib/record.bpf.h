/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * CG_RECORD_EXEC: the fixed part and its variable part (path, script filename and interpreter,
 * argv), built in a per-CPU scratch buffer. Used by the exec tracepoint and by the LSM when it
 * refuses an exec.
 */
#ifndef CMDGATE_RECORD_BPF_H
#define CMDGATE_RECORD_BPF_H

#include <bpf/bpf_core_read.h>

#include "lib/inode.bpf.h"
#include "lib/lineage.bpf.h"
#include "lib/maps.bpf.h"
#include "lib/read_only.bpf.h"
#include "lib/verdict.bpf.h"

struct cg_exec_scratch {
  struct cg_exec_record rec;
  char data[3 * CG_PATH_MAX + CG_ARGS_MAX]; /* masked offsets keep every write inside */
  /* The exec program's lookup for the record, here rather than on its stack: its deepest call
   * chain, through cg_emit, is at the verifier's limit. Never sent. */
  struct cg_lookup lookup;
};

struct {
  __uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
  __uint(max_entries, 1);
  __type(key, __u32);
  __type(value, struct cg_exec_scratch);
} exec_scratch SEC(".maps");

#define CG_OFF_MASK (2 * CG_PATH_MAX - 1)

/* The path for the record: the lookup's when it resolved one, else resolved now. */
static __always_inline void cg_record_path(struct cg_lookup* l, struct file* file,
                                           struct task_struct* task) {
  if (!l->have_path && !cg_resolve_path(file, task, &l->path)) {
    l->path.str = "";
    l->path.len = 1;
    l->path.truncated = true;
  }
  l->have_path = true;
  if (l->path.truncated)
    cg_count(CG_CTR_PATH_TRUNCATED);
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

/* The current task's own fields; returns the record flags they imply. Direct loads through a
 * read-only view, not a helper call each. A global function: the verifier checks it once, on its
 * own, rather than on every path that builds a record. */
__noinline int cg_fill_current_task(struct cg_exec_record* r) {
  if (!r)
    return 0;
  struct task_struct* task = cg_read_only(bpf_get_current_task_btf(), struct task_struct);
  r->start_boottime_ns = task->start_boottime;
  r->pid = task->pid;
  r->tgid = task->tgid;
  r->ppid = task->real_parent->tgid;
  struct pid* session = task->signal->pids[PIDTYPE_SID];
  r->sid = session ? session->numbers[0].nr : 0;
  const struct cred* cred = task->real_cred;
  r->uid = cred->uid.val;
  r->gid = cred->gid.val;
  r->euid = cred->euid.val;
  r->egid = cred->egid.val;
  __builtin_memcpy(r->comm, task->comm, sizeof(r->comm));
  /* Read here, not from /proc later: by the time the daemon logs an audited exec the process has
   * often exited, or its pid belongs to another process. Kernels without audit have neither. */
  r->loginuid = (__u32)-1;
  r->sessionid = (__u32)-1;
  if (bpf_core_field_exists(task->loginuid)) {
    r->loginuid = task->loginuid.val;
    r->sessionid = task->sessionid;
  }
  return task->signal->tty ? CG_EXEC_TTY : 0;
}

/* Fills the record and its variable part; returns the record's total size. task is the current
 * task. committed: the new image is in place, so argv can be read from its stack (before that,
 * task->mm is the caller's). What is reached through bprm and the inode, passed in as integers,
 * is probe-read. */
static __always_inline __u32 cg_build_record(struct cg_exec_scratch* s, struct task_struct* task,
                                             struct linux_binprm* bprm, const struct cg_lookup* l,
                                             __u8 verdict, __u32 generation, __u64 now,
                                             bool committed, __u64 agents) {
  struct cg_exec_record* r = &s->rec;
  const struct cg_file_facts* f = &l->f;
  const struct cg_path* path = &l->path;
  struct inode* inode = l->inode;
  __u32 flags = f->flags;

  r->hdr.type = CG_RECORD_EXEC;
  r->hdr.flags = 0;
  r->hdr.ktime_ns = now;
  r->exec_id = now;
  r->cgroup_id = bpf_get_current_cgroup_id();
  r->dev = f->dev;
  r->ino = f->ino;
  r->size = BPF_CORE_READ(inode, i_size);
  cg_inode_mtime(inode, &r->mtime_sec, &r->mtime_nsec);
  r->ctime_sec = f->ctime_sec;
  r->ctime_nsec = f->ctime_nsec;
  r->policy_generation = generation;
  r->argc = BPF_CORE_READ(bprm, argc);
  r->verdict = verdict;
  r->_pad0 = 0;
  flags |= cg_fill_current_task(r);
  flags |= cg_copy_lineage(r, task);
  r->agents = agents;

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
  r->args_len = 0;
  r->args_total = 0;
  r->_pad1 = 0;
  if (committed) {
    struct mm_struct* mm = BPF_CORE_READ(task, mm);
    unsigned long arg_start = BPF_CORE_READ(mm, arg_start);
    unsigned long arg_end = BPF_CORE_READ(mm, arg_end);
    __u64 want = arg_end > arg_start ? arg_end - arg_start : 0;
    r->args_total = want;
    if (want > CG_ARGS_MAX) {
      want = CG_ARGS_MAX;
      flags |= CG_EXEC_ARGS_TRUNCATED;
    }
    if (want) {
      if (bpf_probe_read_user(&s->data[off & CG_OFF_MASK], want, (void*)arg_start) == 0) {
        r->args_len = want;
        off += want;
      } else {
        cg_count(CG_CTR_ARGS_READ_FAILED);
      }
    }
  }

  r->flags = flags;
  __u32 size = sizeof(*r) + off;
  if (size > sizeof(s->rec) + sizeof(s->data))
    size = sizeof(s->rec) + sizeof(s->data);
  r->hdr.size = size;
  return size;
}

#endif
