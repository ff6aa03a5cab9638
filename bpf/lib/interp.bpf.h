/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * Does the new image run a program interpreter? A dynamically linked program starts in its
 * PT_INTERP (ld.so), which the kernel maps next to it; an image started at its own entry point
 * has none. A shared object (ET_DYN) started at its own entry is either a static-pie program or
 * a dynamic loader run directly, `ld.so PROGRAM ARGS`, which maps and runs a program the kernel
 * never sees as an exec: the daemon must judge that program too.
 *
 * Decided after the image is loaded (sched_process_exec): the start address is in the task's
 * registers, the executable's code range in its fresh mm.
 */
#ifndef CMDGATE_INTERP_BPF_H
#define CMDGATE_INTERP_BPF_H

#include <bpf/bpf_core_read.h>
#include <bpf/bpf_helpers.h>

#include "lib/read_only.bpf.h"

#define CG_ET_DYN 3

static __always_inline bool cg_runs_without_interpreter(struct task_struct* task,
                                                        struct linux_binprm* bprm) {
  /* bprm->buf holds the first bytes of the image being run. */
  if (bprm->buf[0] != 0x7f || bprm->buf[1] != 'E' || bprm->buf[2] != 'L' || bprm->buf[3] != 'F' ||
      bprm->buf[16] != CG_ET_DYN || bprm->buf[17] != 0)
    return false;
  struct mm_struct* mm = cg_read_only(task, struct task_struct)->mm;
  struct pt_regs* regs = (struct pt_regs*)bpf_task_pt_regs(task);
  if (!mm || !regs)
    return false;
  unsigned long ip = BPF_CORE_READ(regs, ip);
  return ip >= mm->start_code && ip < mm->end_code;
}

#endif
