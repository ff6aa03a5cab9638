/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * Absolute path of an open file, walked from its dentry up to the task's root and across
 * mounts. bpf_d_path is not allowed in tracepoints, so walk like d_path does, writing each
 * component right-to-left into the upper half of a per-CPU buffer.
 */
#ifndef CMDGATE_PATH_BPF_H
#define CMDGATE_PATH_BPF_H

#include <bpf/bpf_core_read.h>

#include "lib/maps.bpf.h"

#define CG_PATH_COMPONENTS 48
#define CG_NAME_MASK 255

struct cg_path_buf {
  __u64 stamp;               /* bumped by every walk: see cg_path_intact() */
  char buf[CG_PATH_MAX * 2]; /* writes stay below CG_PATH_MAX + CG_NAME_MASK */
};

struct {
  __uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
  __uint(max_entries, 1);
  __type(key, __u32);
  __type(value, struct cg_path_buf);
} path_scratch SEC(".maps");

struct cg_path {
  const char* str; /* NUL-terminated, inside the per-CPU buffer */
  __u32 len;       /* with the NUL */
  bool truncated;
  __u64 stamp; /* the buffer's stamp after this walk */
};

static __always_inline struct mount* cg_real_mount(struct vfsmount* m) {
  return (struct mount*)((void*)m - bpf_core_field_offset(struct mount, mnt));
}

struct cg_walk {
  struct dentry* dentry;
  struct vfsmount* vfsmnt;
  struct mount* mnt;
  struct dentry* root_dentry;
  struct vfsmount* root_mnt;
  __u32 off; /* first written byte in the per-CPU buffer */
  bool complete;
};

/* One step of the walk (a bpf_loop callback, so the verifier checks it once). Returns 1 to stop. */
static long cg_walk_step(__u32 index, struct cg_walk* w) {
  __u32 zero = 0;
  struct cg_path_buf* pb = bpf_map_lookup_elem(&path_scratch, &zero);
  if (!pb)
    return 1;
  /* Locals, not w->...: BPF_CORE_READ relocates every member access in its argument. */
  struct dentry* dentry = w->dentry;
  struct vfsmount* vfsmnt = w->vfsmnt;
  struct mount* mnt = w->mnt;
  if (dentry == w->root_dentry && vfsmnt == w->root_mnt) {
    w->complete = true;
    return 1;
  }
  if (dentry == BPF_CORE_READ(vfsmnt, mnt_root)) {
    struct mount* parent = BPF_CORE_READ(mnt, mnt_parent);
    if (parent == mnt) { /* top of the mount tree: outside the task's root */
      w->complete = true;
      return 1;
    }
    w->dentry = BPF_CORE_READ(mnt, mnt_mountpoint);
    w->mnt = parent;
    w->vfsmnt = (struct vfsmount*)__builtin_preserve_access_index(&parent->mnt);
    return 0;
  }
  struct qstr name = BPF_CORE_READ(dentry, d_name);
  __u32 len = name.len & CG_NAME_MASK;
  __u32 off = w->off;
  if (off > CG_PATH_MAX - 1 || len + 1 > off)
    return 1;
  off -= len;
  bpf_probe_read_kernel(&pb->buf[off & (CG_PATH_MAX - 1)], len, name.name);
  off -= 1;
  pb->buf[off & (CG_PATH_MAX - 1)] = '/';
  w->off = off;

  struct dentry* up = BPF_CORE_READ(dentry, d_parent);
  if (up == dentry) { /* pseudo file (memfd, anon inode): its name is all there is */
    w->complete = true;
    return 1;
  }
  w->dentry = up;
  return 0;
}

/* Returns false when the scratch buffer is unavailable (counted by the caller). */
static __always_inline bool cg_resolve_path(struct file* file, struct task_struct* task,
                                            struct cg_path* out) {
  __u32 zero = 0;
  struct cg_path_buf* pb = bpf_map_lookup_elem(&path_scratch, &zero);
  if (!pb)
    return false;

  struct cg_walk w = {
      .dentry = BPF_CORE_READ(file, f_path.dentry),
      .vfsmnt = BPF_CORE_READ(file, f_path.mnt),
      .root_dentry = BPF_CORE_READ(task, fs, root.dentry),
      .root_mnt = BPF_CORE_READ(task, fs, root.mnt),
      .off = CG_PATH_MAX - 1,
  };
  w.mnt = cg_real_mount(w.vfsmnt);
  pb->stamp += 1;
  out->stamp = pb->stamp;
  pb->buf[CG_PATH_MAX - 1] = '\0';
  bpf_loop(CG_PATH_COMPONENTS, cg_walk_step, &w, 0);

  __u32 off = w.off;
  if (off > CG_PATH_MAX - 1)
    return false;
  if (off == CG_PATH_MAX - 1) {
    off -= 1;
    pb->buf[off] = '/';
  }
  out->str = &pb->buf[off];
  out->len = CG_PATH_MAX - off;
  out->truncated = !w.complete;
  return true;
}

/*
 * The per-CPU buffers (this one, the path key, the exec record) are safe on the tracepoint, which
 * runs with preemption off. LSM programs run with only migration off: under preempt=full another
 * exec on this CPU can preempt one mid-walk and reuse them. Every user walks before it touches
 * them, so an unchanged stamp means nobody did since our walk.
 */
static __always_inline bool cg_path_intact(const struct cg_path* p) {
  __u32 zero = 0;
  struct cg_path_buf* pb = bpf_map_lookup_elem(&path_scratch, &zero);
  return pb && pb->stamp == p->stamp;
}

#endif
