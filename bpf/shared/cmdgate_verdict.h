/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * The verdict one policy slot gives the file an exec is about to run, from what two lookups
 * find: class verdicts (memfd, deleted), then the file's identity (learned, rule inode), then
 * the path trie, then the slot's default, and for #! execs the script class on top. The BPF
 * programs compile it with lookups that read the maps (bpf/lib/verdict.bpf.h); user space
 * compiles it with lookups that read the image the daemon writes into those maps
 * (userspace/rules/kernel_model.cpp: the tests and `cmdgate explain`). What the tests prove of
 * the kernel's verdicts is therefore what the kernel runs.
 *
 * The includer defines struct cg_verdict_lookups, and these two before it calls
 * cg_file_verdict:
 *   cg_lookup_identity  the learned or rule entry of the file (cg_pick_verdict), else NONE
 *   cg_lookup_path      the longest path-trie entry covering the file's path, NONE where none
 *                       does, EVALUATE where the path could not be established
 */
#ifndef CMDGATE_VERDICT_H
#define CMDGATE_VERDICT_H

#include "shared/cmdgate_abi.h"

#ifdef __bpf__
#define CG_VERDICT_FN static __always_inline
#else
#define CG_VERDICT_FN static inline
#endif

struct cg_verdict_lookups;
CG_VERDICT_FN __u8 cg_lookup_identity(struct cg_verdict_lookups* l, bool agent, bool* check_path);
CG_VERDICT_FN __u8 cg_lookup_path(struct cg_verdict_lookups* l, bool agent);

CG_VERDICT_FN __u8 cg_max_verdict(__u8 a, __u8 b) {
  return a > b ? a : b;
}

/* An entry's verdict for a process with (agent) or without an agent label; *check_path says
 * whether it is exact only outside the path trie's entries. */
CG_VERDICT_FN __u8 cg_pick_verdict(__u8 verdict, __u8 agent_verdict, __u8 flags, bool agent,
                                   bool* check_path) {
  *check_path = flags & (agent ? CG_VF_AGENT_CHECK_PATH : CG_VF_CHECK_PATH);
  return agent ? agent_verdict : verdict;
}

/* flags: the file's CG_EXEC_MEMFD, CG_EXEC_DELETED and CG_EXEC_SCRIPT. agent: use the verdicts
 * for processes an `agent` rule may match. */
CG_VERDICT_FN __u8 cg_file_verdict(const struct cg_policy_meta* meta, __u32 flags, bool agent,
                                   struct cg_verdict_lookups* l) {
  __u8 v = CG_VERDICT_NONE;
  __u8 memfd_v = agent ? meta->agent_memfd_verdict : meta->memfd_verdict;
  __u8 deleted_v = agent ? meta->agent_deleted_verdict : meta->deleted_verdict;
  if ((flags & CG_EXEC_MEMFD) && memfd_v) {
    v = memfd_v;
  } else if ((flags & CG_EXEC_DELETED) && deleted_v) {
    v = deleted_v;
  } else {
    bool check_path = false;
    v = cg_lookup_identity(l, agent, &check_path);
    if (meta->has_paths && (v == CG_VERDICT_NONE || check_path)) {
      __u8 pv = cg_lookup_path(l, agent);
      if (pv != CG_VERDICT_NONE)
        v = v == CG_VERDICT_NONE ? pv : (__u8)CG_VERDICT_EVALUATE;
    }
    if (v == CG_VERDICT_NONE)
      v = agent ? meta->agent_default_verdict : meta->default_verdict;
  }
  if (flags & CG_EXEC_SCRIPT)
    v = cg_max_verdict(v, agent ? meta->agent_script_verdict : meta->script_verdict);
  return v;
}

/* What an image that runs without a program interpreter (CG_EXEC_NO_INTERP: a loader run
 * directly) adds: the program it will map is named by argv, which only the daemon reads. */
CG_VERDICT_FN __u8 cg_loader_verdict(const struct cg_policy_meta* meta, bool agent) {
  return agent ? meta->agent_loader_verdict : meta->loader_verdict;
}

#endif
