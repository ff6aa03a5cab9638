/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * Agent labels (struct cg_label in task storage): a process that execs a declared agent gets the
 * agent's bit, and every process forked from it inherits the bits, whatever happens to its
 * parents afterwards. The daemon matches `agent` rules on the label each exec record carries;
 * the kernel's verdict maps hold one verdict for unlabelled processes (which no `agent` rule can
 * match) and one for the others.
 *
 * Labels are kept only while the active policy declares agents (has_agents): with none, nothing
 * here runs. A process without storage (it predates that) is labelled from its living ancestry
 * the first time it forks; an exec before then is judged with an unknown label (the walk does
 * not fit the exec program's stack). A walk that does not reach the end leaves the label
 * unknown too. Unknown counts as labelled everywhere a verdict depends on it.
 */
#ifndef CMDGATE_LABEL_BPF_H
#define CMDGATE_LABEL_BPF_H

#include <bpf/bpf_core_read.h>

#include "lib/identity.bpf.h"
#include "lib/maps.bpf.h"
#include "lib/policy.bpf.h"

struct {
  __uint(type, BPF_MAP_TYPE_TASK_STORAGE);
  __uint(map_flags, BPF_F_NO_PREALLOC);
  __type(key, int);
  __type(value, struct cg_label);
} agent_label SEC(".maps");

struct {
  __uint(type, BPF_MAP_TYPE_HASH);
  __uint(map_flags, BPF_F_NO_PREALLOC);
  __uint(max_entries, 1 << 14);
  __type(key, struct cg_inode_slot_key);
  __type(value, __u64);
} agent_files SEC(".maps");

struct {
  __uint(type, BPF_MAP_TYPE_HASH);
  __uint(map_flags, BPF_F_NO_PREALLOC);
  __uint(max_entries, 1 << 12);
  __type(key, struct cg_inode_slot_key);
  __type(value, __u64);
} agent_dirs SEC(".maps");

struct {
  __uint(type, BPF_MAP_TYPE_LPM_TRIE);
  __uint(map_flags, BPF_F_NO_PREALLOC);
  __uint(max_entries, 1 << 12);
  __type(key, struct cg_agent_name_key);
  __type(value, __u64);
} agent_names SEC(".maps");

struct {
  __uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
  __uint(max_entries, 1);
  __type(key, __u32);
  __type(value, struct cg_agent_name_key);
} agent_name_scratch SEC(".maps");

static __always_inline __u64 cg_agent_identity_bits(struct bpf_map* map, __u32 slot, __u64 dev,
                                                    __u64 ino) {
  struct cg_inode_slot_key key = {.dev = dev, .ino = ino, .slot = slot};
  __u64* bits = bpf_map_lookup_elem(map, &key);
  return bits ? *bits : 0;
}

/* name: a kernel string (comm, or a kernfs node's name). Unreadable: no match. */
static __always_inline __u64 cg_agent_name_bits(__u32 slot, __u8 kind, const char* name) {
  __u32 zero = 0;
  struct cg_agent_name_key* key = bpf_map_lookup_elem(&agent_name_scratch, &zero);
  if (!key) {
    cg_count(CG_CTR_SCRATCH_MISSING);
    return 0;
  }
  __builtin_memset(key, 0, sizeof(*key));
  if (bpf_probe_read_kernel_str(key->name, sizeof(key->name), name) <= 0)
    return 0;
  key->slot = slot;
  key->kind = kind;
  key->prefixlen = 8 * (2 + CG_AGENT_NAME_MAX);
  __u64* bits = bpf_map_lookup_elem(&agent_names, key);
  return bits ? *bits : 0;
}

/* The agents a running image names: its file, the directory that holds it, its comm. Probe
 * reads: used on the live walk, where pointers are not BTF-typed. */
static __always_inline __u64 cg_agent_image_bits(__u32 slot, struct file* exe, const char* comm) {
  __u64 bits = cg_agent_name_bits(slot, CG_AGENT_COMM, comm);
  if (!exe)
    return bits;
  __u64 dev = 0, ino = 0;
  cg_read_file_identity(exe, &dev, &ino);
  bits |= cg_agent_identity_bits((struct bpf_map*)&agent_files, slot, dev, ino);
  __u64 dir_ino = BPF_CORE_READ(exe, f_path.dentry, d_parent, d_inode, i_ino);
  bits |= cg_agent_identity_bits((struct bpf_map*)&agent_dirs, slot, dev, dir_ino);
  return bits;
}

/* The address of a task's comm, for a probe read: no copy on the stack, which is tight. */
static __always_inline const char* cg_comm_of(struct task_struct* task) {
  return (const char*)task + bpf_core_field_offset(struct task_struct, comm);
}

/* The systemd unit (cgroup v2 leaf) a task runs in, matched as a name. */
static __always_inline __u64 cg_agent_unit_bits(__u32 slot, struct task_struct* task) {
  const char* name = BPF_CORE_READ(task, cgroups, dfl_cgrp, kn, name);
  return name ? cg_agent_name_bits(slot, CG_AGENT_UNIT, name) : 0;
}

struct cg_label_walk {
  struct task_struct* task;
  __u64 agents;
  __u32 slot;
  bool reached_end;
};

/* One ancestor of the live walk (a bpf_loop callback: verified once). */
static long cg_label_step(__u32 index, struct cg_label_walk* w) {
  struct task_struct* task = w->task; /* a plain load: CO-RE relocates kernel types only */
  struct task_struct* parent = BPF_CORE_READ(task, real_parent, group_leader);
  __u32 ptgid = BPF_CORE_READ(parent, tgid);
  if (!parent || ptgid == 0 || parent == task) {
    w->reached_end = true;
    return 1;
  }
  w->agents |= cg_agent_image_bits(w->slot, BPF_CORE_READ(parent, mm, exe_file),
                                   cg_comm_of(parent));
  w->agents |= cg_agent_unit_bits(w->slot, parent);
  w->task = parent;
  if (ptgid == 1) {
    w->reached_end = true;
    return 1;
  }
  return 0;
}

/* The label of a process that has none stored, from its own image and its living ancestors.
 * An ancestor that exited before labelling began and reparented the process is not seen; see
 * docs/threat-model.md. */
static __always_inline struct cg_label cg_label_from_ancestry(__u32 slot,
                                                              struct task_struct* task) {
  struct cg_label_walk w = {.task = task, .slot = slot};
  w.agents = cg_agent_image_bits(slot, BPF_CORE_READ(task, mm, exe_file), cg_comm_of(task)) |
             cg_agent_unit_bits(slot, task);
  bpf_loop(CG_LABEL_WALK_MAX, cg_label_step, &w, 0);
  struct cg_label l = {.agents = w.agents};
  if (!w.reached_end) {
    l.flags = CG_LABEL_UNKNOWN;
    cg_count(CG_CTR_LABEL_UNKNOWN);
  }
  return l;
}

/* task's stored label, created from its ancestry when missing. NULL when storage cannot be
 * created; *out then holds an unknown label (fail closed). task must be a BTF pointer to a
 * group leader. */
static __always_inline struct cg_label* cg_label_get(__u32 slot, struct task_struct* task,
                                                     struct cg_label* out) {
  struct cg_label* l = bpf_task_storage_get(&agent_label, task, 0, 0);
  if (l) {
    *out = *l;
    return l;
  }
  *out = cg_label_from_ancestry(slot, task);
  l = bpf_task_storage_get(&agent_label, task, out, BPF_LOCAL_STORAGE_GET_F_CREATE);
  if (!l) {
    cg_count(CG_CTR_LABEL_FAILED);
    out->flags |= CG_LABEL_UNKNOWN;
  }
  return l;
}

/* At exec (the new image committed; file_ptr: its struct file*, as an integer): the agent bits
 * the process runs under from now on; the image itself, its comm and its unit may make it an
 * agent. *exec_flags gets CG_EXEC_AGENT_UNKNOWN when more bits may apply. A global function:
 * verified once on its own, and its frame stays off the exec program's deepest call chain (the
 * record builder's), which is at the verifier's stack limit. */
__noinline __u64 cg_label_exec(__u32 slot, __u64 file_ptr, __u32* exec_flags) {
  if (!exec_flags)
    return 0;
  struct task_struct* task = bpf_get_current_task_btf();
  struct file* file = (struct file*)file_ptr;
  struct cg_label* stored = bpf_task_storage_get(&agent_label, task, 0, 0);
  __u64 agents = 0;
  if (stored) {
    agents = stored->agents;
    if (stored->flags & CG_LABEL_UNKNOWN)
      *exec_flags |= CG_EXEC_AGENT_UNKNOWN;
  } else {
    /* Older than labelling, and not forked since: its next fork walks its ancestry. */
    *exec_flags |= CG_EXEC_AGENT_UNKNOWN;
    cg_count(CG_CTR_LABEL_UNKNOWN);
  }
  __u64 own = cg_agent_image_bits(slot, file, cg_comm_of(task)) | cg_agent_unit_bits(slot, task);
  if (own & ~agents) {
    cg_count(CG_CTR_LABEL_SET);
    agents |= own;
    if (stored)
      __sync_fetch_and_or(&stored->agents, own);
  }
  return agents;
}

/* At fork: the child carries its parent's label. The parent's comm is matched again first: a
 * program may name itself after it started (prctl(PR_SET_NAME), node's process.title). */
static __noinline void cg_label_fork(struct task_struct* leader, struct task_struct* child) {
  __u32 slot = 0;
  const struct cg_policy_meta* meta = cg_active_policy(&slot);
  if (!meta || !meta->has_agents)
    return;
  struct cg_label parent = {};
  struct cg_label* stored = cg_label_get(slot, leader, &parent);
  __u64 named = cg_agent_name_bits(slot, CG_AGENT_COMM, leader->comm);
  if (named & ~parent.agents) {
    cg_count(CG_CTR_LABEL_SET);
    parent.agents |= named;
    if (stored)
      __sync_fetch_and_or(&stored->agents, named);
  }
  if (!bpf_task_storage_get(&agent_label, child, &parent, BPF_LOCAL_STORAGE_GET_F_CREATE))
    cg_count(CG_CTR_LABEL_FAILED);
}

#endif
