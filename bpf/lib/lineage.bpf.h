/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * Process lineage as it was at fork time, kept in task storage: freed with the task, immune to
 * reparenting (a double-forked orphan still names the agent that spawned it), and read without
 * touching /proc.
 */
#ifndef CMDGATE_LINEAGE_BPF_H
#define CMDGATE_LINEAGE_BPF_H

#include <bpf/bpf_core_read.h>

#include "lib/maps.bpf.h"

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
  struct mm_struct* mm = task->mm;
  if (mm) {
    struct file* exe = mm->exe_file;
    if (exe) {
      struct inode* inode = exe->f_inode;
      a->dev = inode->i_sb->s_dev;
      a->ino = inode->i_ino;
    }
  }
  a->tgid = task->tgid;
  a->_pad = 0;
  __builtin_memcpy(a->comm, task->comm, sizeof(a->comm));
}

/* The same through probe reads, for the live walk below: pointers reached through real_parent
 * chains are not BTF-typed after a loop, and this path only serves processes that predate the
 * agent, so its cost does not matter. */
static __always_inline void cg_read_ancestor(struct cg_ancestor* a, struct task_struct* task) {
  struct inode* exe = BPF_CORE_READ(task, mm, exe_file, f_inode);
  a->dev = BPF_CORE_READ(exe, i_sb, s_dev);
  a->ino = BPF_CORE_READ(exe, i_ino);
  a->tgid = BPF_CORE_READ(task, tgid);
  a->_pad = 0;
  BPF_CORE_READ_STR_INTO(&a->comm, task, comm);
}

/* Live walk of real_parent for processes that were forked before the agent started. Starts at
 * out[first] with the parent of task. Returns the depth reached. */
static __always_inline __u32 cg_walk_parents(struct cg_ancestor* out, __u32 first,
                                             struct task_struct* task) {
  __u32 depth = first;
  for (int i = 0; i < CG_LINEAGE_DEPTH; i++) {
    if (depth >= CG_LINEAGE_DEPTH)
      break;
    struct task_struct* parent = BPF_CORE_READ(task, real_parent, group_leader);
    __u32 ptgid = BPF_CORE_READ(parent, tgid);
    if (!parent || ptgid == 0 || parent == task)
      break;
    cg_read_ancestor(&out[depth & (CG_LINEAGE_DEPTH - 1)], parent);
    depth++;
    if (ptgid == 1)
      break;
    task = parent;
  }
  return depth;
}

#endif
