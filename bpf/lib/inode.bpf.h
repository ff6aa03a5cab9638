/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* Inode timestamps across kernel layouts (CO-RE flavours instead of version checks). The ctime
 * is read on every exec, from a BTF pointer, with direct loads; the mtime only for records, with
 * probe reads (the inode arrives there as a plain integer). */
#ifndef CMDGATE_INODE_BPF_H
#define CMDGATE_INODE_BPF_H

#include <bpf/bpf_core_read.h>

#define CG_CTIME_NSEC_MASK 0x7fffffffu

/* 6.6 – 6.10: ctime hidden behind __i_ctime; mtime still a timespec64. */
struct inode___v66 {
  struct timespec64 __i_ctime;
  struct timespec64 __i_mtime;
} __attribute__((preserve_access_index));

/* before 6.6: plain timespec64 fields. */
struct inode___old {
  struct timespec64 i_ctime;
  struct timespec64 i_mtime;
} __attribute__((preserve_access_index));

static __always_inline void cg_inode_ctime(struct inode* inode, __s64* sec, __u32* nsec) {
  if (bpf_core_field_exists(inode->i_ctime_sec)) {
    *sec = inode->i_ctime_sec;
    /* Multigrain timestamps keep a flag (I_CTIME_QUERIED) in the top bit once anyone has
     * stat()ed the file: without masking it, a file the daemon looked at would no longer match
     * what it learned. Nanoseconds never reach that bit. */
    *nsec = inode->i_ctime_nsec & CG_CTIME_NSEC_MASK;
  } else if (bpf_core_field_exists(((struct inode___v66*)inode)->__i_ctime)) {
    struct inode___v66* i = (void*)inode;
    *sec = i->__i_ctime.tv_sec;
    *nsec = i->__i_ctime.tv_nsec;
  } else {
    struct inode___old* i = (void*)inode;
    *sec = i->i_ctime.tv_sec;
    *nsec = i->i_ctime.tv_nsec;
  }
}

static __always_inline void cg_inode_mtime(struct inode* inode, __s64* sec, __u32* nsec) {
  if (bpf_core_field_exists(inode->i_mtime_sec)) {
    *sec = BPF_CORE_READ(inode, i_mtime_sec);
    *nsec = BPF_CORE_READ(inode, i_mtime_nsec);
  } else if (bpf_core_field_exists(((struct inode___v66*)inode)->__i_mtime)) {
    struct inode___v66* i = (void*)inode;
    *sec = BPF_CORE_READ(i, __i_mtime.tv_sec);
    *nsec = BPF_CORE_READ(i, __i_mtime.tv_nsec);
  } else {
    struct inode___old* i = (void*)inode;
    *sec = BPF_CORE_READ(i, i_mtime.tv_sec);
    *nsec = BPF_CORE_READ(i, i_mtime.tv_nsec);
  }
}

#endif
