/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * The verdict one policy slot gives the file a binprm is about to run (shared/cmdgate_verdict.h),
 * with lookups that read the maps. The exec tracepoint and the BPF LSM both decide through this
 * one function, so they cannot disagree about a file.
 */
#ifndef CMDGATE_VERDICT_BPF_H
#define CMDGATE_VERDICT_BPF_H

#include "lib/identity.bpf.h"
#include "lib/inode.bpf.h"
#include "lib/label.bpf.h"
#include "lib/path.bpf.h"
#include "lib/policy.bpf.h"
#include "lib/read_only.bpf.h"
#include "shared/cmdgate_verdict.h"

/* What a lookup learned on the way, for the record that may follow. */
struct cg_lookup {
  struct inode* inode;
  struct cg_file_facts f;
  struct cg_path path; /* valid when have_path */
  bool have_path;
};

static __always_inline bool cg_is_memfd(struct file* file, __u32 nlink) {
  if (nlink != 0)
    return false;
  char name[6] = {};
  bpf_probe_read_kernel(name, sizeof(name), file->f_path.dentry->d_name.name);
  return name[0] == 'm' && name[1] == 'e' && name[2] == 'm' && name[3] == 'f' && name[4] == 'd' &&
         name[5] == ':';
}

/* Identity step: learned entry (same generation, unchanged file), else rule entry. */
static __always_inline __u8 cg_identity_verdict(const struct cg_policy_meta* meta, __u32 slot,
                                                const struct cg_file_facts* f, bool agent,
                                                bool* check_path) {
  struct cg_inode_key key = {.dev = f->dev, .ino = f->ino};
  struct cg_learned_verdict* l = bpf_map_lookup_elem(&learned, &key);
  if (l && l->generation == meta->generation && l->ctime_sec == f->ctime_sec &&
      l->ctime_nsec == f->ctime_nsec)
    return cg_pick_verdict(l->verdict, l->agent_verdict, l->flags, agent, check_path);
  void* inodes = bpf_map_lookup_elem(&rule_inodes, &slot);
  if (!inodes) {
    /* A slot in force always has its map: without it, what the policy says of files is unknown. */
    *check_path = false;
    return CG_VERDICT_EVALUATE;
  }
  struct cg_inode_verdict* r = bpf_map_lookup_elem(inodes, &key);
  if (r)
    return cg_pick_verdict(r->verdict, r->agent_verdict, r->flags, agent, check_path);
  *check_path = false;
  return CG_VERDICT_NONE;
}

/* Longest-prefix lookup of (slot, path). Returns CG_VERDICT_NONE when no entry covers it. */
static __always_inline __u8 cg_path_verdict(__u32 slot, const struct cg_path* p, bool agent) {
  __u32 zero = 0;
  struct cg_path_key* key = bpf_map_lookup_elem(&path_key_scratch, &zero);
  if (!key)
    return CG_VERDICT_EVALUATE; /* cannot look: let the daemon decide */
  __builtin_memset(key, 0, sizeof(*key));
  __u32 n = p->len > CG_LPM_PATH_MAX ? CG_LPM_PATH_MAX : p->len;
  bpf_probe_read_kernel(key->path, n & CG_NAME_MASK, p->str);
  key->slot = slot;
  key->prefixlen = 8 * (1 + CG_LPM_PATH_MAX);
  struct cg_path_verdict* v = bpf_map_lookup_elem(&path_trie, key);
  __u8 verdict = v ? (agent ? v->agent_verdict : v->verdict) : CG_VERDICT_NONE;
  if (!cg_path_intact(p)) {
    cg_count(CG_CTR_SCRATCH_RACE);
    return CG_VERDICT_EVALUATE; /* abstain: the tracepoint decides after the commit */
  }
  return verdict;
}

/* The lookups of cg_file_verdict (shared/cmdgate_verdict.h) for one binprm. */
struct cg_verdict_lookups {
  const struct cg_policy_meta* meta;
  __u32 slot;
  struct file* file;
  struct task_struct* task;
  struct cg_lookup* l;
};

static __always_inline __u8 cg_lookup_identity(struct cg_verdict_lookups* q, bool agent,
                                               bool* check_path) {
  return cg_identity_verdict(q->meta, q->slot, &q->l->f, agent, check_path);
}

static __always_inline __u8 cg_lookup_path(struct cg_verdict_lookups* q, bool agent) {
  struct cg_lookup* l = q->l;
  l->have_path = cg_resolve_path(q->file, q->task, &l->path);
  /* A path cut by the walk is only its last components: no prefix can be judged on it. */
  if (!l->have_path || l->path.truncated)
    return CG_VERDICT_EVALUATE;
  return cg_path_verdict(q->slot, &l->path, agent);
}

/* bprm and task must be BTF pointers (direct loads: this runs on every exec). kinds says
 * whether the memfd/deleted classes apply: the daemon judges the file of a #! or binfmt_misc
 * script as a script, whose kind it never considers, so the LSM asks only for ELF images.
 * agent: use the verdicts for processes an `agent` rule may match. */
static __always_inline __u8 cg_bprm_verdict(struct linux_binprm* bprm, struct task_struct* task,
                                            const struct cg_policy_meta* meta, __u32 slot,
                                            bool kinds, bool agent, struct cg_lookup* l) {
  struct file* file = cg_read_only(bprm, struct linux_binprm)->file;
  struct inode* inode = file->f_inode;
  l->inode = inode;
  cg_file_identity(file, inode, &l->f.dev, &l->f.ino);
  l->f.flags = 0;
  cg_inode_ctime(inode, &l->f.ctime_sec, &l->f.ctime_nsec);
  if (kinds) {
    __u32 nlink = inode->__i_nlink;
    if (cg_is_memfd(file, nlink))
      l->f.flags |= CG_EXEC_MEMFD;
    else if (nlink == 0)
      l->f.flags |= CG_EXEC_DELETED;
  }
  if (bprm->filename != bprm->interp)
    l->f.flags |= CG_EXEC_SCRIPT;
  l->have_path = false;
  struct cg_verdict_lookups q = {.meta = meta, .slot = slot, .file = file, .task = task, .l = l};
  return cg_file_verdict(meta, l->f.flags, agent, &q);
}

#endif
