/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * Process lineage as it was at fork time, kept in task storage: freed with the task, immune to
 * reparenting (a double-forked orphan still names the agent that spawned it), and read without
 * touching /proc.
 */
#ifndef CMDGATE_LINEAGE_BPF_H
#define CMDGATE_LINEAGE_BPF_H

#include <bpf/bpf_core_read.h>

#include "lib/identity.bpf.h"
#include "lib/maps.bpf.h"
#include "lib/read_only.bpf.h"

struct {
  __uint(type, BPF_MAP_TYPE_TASK_STORAGE);
  __uint(map_flags, BPF_F_NO_PREALLOC);
  __type(key, int);
  __type(value, struct cg_lineage);
} lineage SEC(".maps");

/* task must be a group leader: its mm, comm and tgid name the process. Direct loads from BTF
 * pointers (not probe-read helpers): this runs on every fork. */
static __always_inline void cg_fill_ancestor(struct cg_ancestor* a, struct task_struct* task) {
  a->dev = 0;
  a->ino = 0;
  task = cg_read_only(task, struct task_struct);
  struct mm_struct* mm = task->mm;
  if (mm) {
    struct file* exe = mm->exe_file;
    if (exe)
      cg_file_identity(exe, exe->f_inode, &a->dev, &a->ino);
  }
  a->tgid = task->tgid;
  struct pid* session = task->signal->pids[PIDTYPE_SID];
  a->sid = session ? session->numbers[0].nr : 0;
  __builtin_memcpy(a->comm, task->comm, sizeof(a->comm));
}

static __always_inline void cg_bloom_add(struct cg_lineage* l, __u32 tgid) {
  for (__u32 i = 0; i < CG_BLOOM_HASHES; i++) {
    __u32 bit = cg_bloom_bit(tgid, i);
    l->bloom[(bit / 64) & (CG_BLOOM_WORDS - 1)] |= 1ull << (bit % 64);
  }
}

/* The same through probe reads, for the live walk below: pointers reached through real_parent
 * chains are not BTF-typed after a loop, and this path only serves processes that predate the
 * agent, so its cost does not matter. */
static __always_inline void cg_read_ancestor(struct cg_ancestor* a, struct task_struct* task) {
  cg_read_file_identity(BPF_CORE_READ(task, mm, exe_file), &a->dev, &a->ino);
  a->tgid = BPF_CORE_READ(task, tgid);
  a->sid = BPF_CORE_READ(task, signal, pids[PIDTYPE_SID], numbers[0].nr);
  BPF_CORE_READ_STR_INTO(&a->comm, task, comm);
}

struct cg_parent_walk {
  struct cg_ancestor* out; /* CG_LINEAGE_DEPTH entries */
  struct task_struct* task;
  __u32 depth;
};

/* One step of the live walk (a bpf_loop callback: verified once, not once per level). */
static long cg_parent_step(__u32 index, struct cg_parent_walk* w) {
  if (w->depth >= CG_LINEAGE_DEPTH)
    return 1;
  struct task_struct* task = w->task;
  struct task_struct* parent = BPF_CORE_READ(task, real_parent, group_leader);
  __u32 ptgid = BPF_CORE_READ(parent, tgid);
  if (!parent || ptgid == 0 || parent == task)
    return 1;
  cg_read_ancestor(&w->out[w->depth & (CG_LINEAGE_DEPTH - 1)], parent);
  w->depth++;
  w->task = parent;
  return ptgid == 1;
}

/* Live walk of real_parent for processes that were forked before the agent started. Starts at
 * out[first] with the parent of task. Returns the depth reached. */
static __always_inline __u32 cg_walk_parents(struct cg_ancestor* out, __u32 first,
                                             struct task_struct* task) {
  struct cg_parent_walk w = {.out = out, .task = task, .depth = first};
  bpf_loop(CG_LINEAGE_DEPTH, cg_parent_step, &w, 0);
  return w.depth;
}

#endif
