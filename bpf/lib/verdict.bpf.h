/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * The verdict one policy slot gives the file a binprm is about to run: class verdicts (memfd,
 * deleted), then identity (learned, rule inode), then the path trie, then the slot's default, and
 * for #! execs the script class on top. The exec tracepoint and the BPF LSM both decide through
 * this one function, so they cannot disagree about a file.
 */
#ifndef CMDGATE_VERDICT_BPF_H
#define CMDGATE_VERDICT_BPF_H

#include "lib/identity.bpf.h"
#include "lib/inode.bpf.h"
#include "lib/label.bpf.h"
#include "lib/path.bpf.h"
#include "lib/policy.bpf.h"

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

/* bprm and task must be BTF pointers (direct loads: this runs on every exec). kinds says
 * whether the memfd/deleted classes apply: the daemon judges the file of a #! or binfmt_misc
 * script as a script, whose kind it never considers, so the LSM asks only for ELF images.
 * agent: use the verdicts for processes an `agent` rule may match. */
static __always_inline __u8 cg_bprm_verdict(struct linux_binprm* bprm, struct task_struct* task,
                                            const struct cg_policy_meta* meta, __u32 slot,
                                            bool kinds, bool agent, struct cg_lookup* l) {
  struct file* file = bprm->file;
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
  __u8 v = CG_VERDICT_NONE;
  __u8 memfd_v = agent ? meta->agent_memfd_verdict : meta->memfd_verdict;
  __u8 deleted_v = agent ? meta->agent_deleted_verdict : meta->deleted_verdict;
  if ((l->f.flags & CG_EXEC_MEMFD) && memfd_v) {
    v = memfd_v;
  } else if ((l->f.flags & CG_EXEC_DELETED) && deleted_v) {
    v = deleted_v;
  } else {
    bool check_path = false;
    v = cg_identity_verdict(meta, slot, &l->f, agent, &check_path);
    if (meta->has_paths && (v == CG_VERDICT_NONE || check_path)) {
      l->have_path = cg_resolve_path(file, task, &l->path);
      /* A path cut by the walk is only its last components: no prefix can be judged on it. */
      __u8 pv = l->have_path && !l->path.truncated ? cg_path_verdict(slot, &l->path, agent)
                                                   : CG_VERDICT_EVALUATE;
      if (pv != CG_VERDICT_NONE)
        v = v == CG_VERDICT_NONE ? pv : CG_VERDICT_EVALUATE;
    }
    if (v == CG_VERDICT_NONE)
      v = agent ? meta->agent_default_verdict : meta->default_verdict;
  }
  if (l->f.flags & CG_EXEC_SCRIPT)
    v = cg_max_verdict(v, agent ? meta->agent_script_verdict : meta->script_verdict);
  return v;
}

#endif
