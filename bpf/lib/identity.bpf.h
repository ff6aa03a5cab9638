/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * A file's identity as stat(2) reports it (st_dev, st_ino), computed from its inode. Rules name
 * files by stat() and the daemon checks records against fstat(), so the kernel must use the
 * same pair; it must also be unique, which (i_sb->s_dev, i_ino) is not everywhere:
 *
 *   btrfs      every subvolume, the top level included, numbers its inodes from the same start
 *              under one superblock; getattr reports the subvolume root's anonymous device.
 *   overlayfs  getattr reports the number of the layer inode a file comes from, which after a
 *              copy-up is not always the one the overlay inode was given; over several file
 *              systems it adds the layer in high bits (xino) or reports a device per layer.
 *
 * Every other file system reports the superblock's device and i_ino, at the cost of one load
 * (s_magic). The two above are read with probe reads through layouts that CO-RE resolves at
 * load time: in vmlinux BTF when built in, else in the module's BTF, which libbpf (1.1
 * included) searches when vmlinux lacks the type. When no layout is found (the module was not
 * loaded yet, or none of the flavours below match), the superblock's identity stays: on those
 * files exact-path rules then do not match and the daemon's fstat() checks fail.
 */
#ifndef CMDGATE_IDENTITY_BPF_H
#define CMDGATE_IDENTITY_BPF_H

#include <bpf/bpf_core_read.h>

#define CG_BTRFS_SUPER_MAGIC 0x9123683E
#define CG_OVERLAYFS_SUPER_MAGIC 0x794c7630

struct cg_identity {
  __u64 inode; /* struct inode*, as an integer: global functions take no kernel pointers */
  __u64 dev;   /* in: the superblock's; out: what stat() reports */
  __u64 ino;
};

struct btrfs_root___cg {
  dev_t anon_dev;
} __attribute__((preserve_access_index));

struct btrfs_inode___cg {
  struct btrfs_root___cg* root;
  struct inode vfs_inode;
} __attribute__((preserve_access_index));

struct ovl_config___cg {
  bool index;
  bool nfs_export;
} __attribute__((preserve_access_index));

struct ovl_sb___cg {
  dev_t pseudo_dev;
} __attribute__((preserve_access_index));

struct ovl_fs___cg {
  unsigned int numfs;
  struct ovl_sb___cg* fs;
  struct ovl_config___cg config;
  int xino_mode;
} __attribute__((preserve_access_index));

struct ovl_layer___cg {
  int fsid;
} __attribute__((preserve_access_index));

struct ovl_path___cg {
  const struct ovl_layer___cg* layer;
  struct dentry* dentry;
} __attribute__((preserve_access_index));

struct ovl_entry___cg {
  unsigned int __numlower;
  struct ovl_path___cg __lowerstack[0];
} __attribute__((preserve_access_index));

/* 6.5 on: the lower stack hangs off the inode. */
struct ovl_inode___cg {
  unsigned long flags;
  struct inode vfs_inode;
  struct dentry* __upperdentry;
  struct ovl_entry___cg* oe;
} __attribute__((preserve_access_index));

/* Before 6.5: the inode keeps its top lower path only, which is all getattr consults. */
struct ovl_inode___lowerpath {
  struct ovl_path___cg lowerpath;
} __attribute__((preserve_access_index));

enum ovl_inode_flag___cg { OVL_INDEX___cg = 2, OVL_CONST_INO___cg = 4 };

static __always_inline void cg_btrfs_identity(struct cg_identity* id) {
  if (!bpf_core_type_exists(struct btrfs_inode___cg))
    return;
  struct btrfs_inode___cg* bi =
      (void*)(id->inode - bpf_core_field_offset(struct btrfs_inode___cg, vfs_inode));
  dev_t dev = BPF_CORE_READ(bi, root, anon_dev);
  if (dev)
    id->dev = dev;
}

/* ovl_getattr() for a non-directory: first the layer and inode it takes the number from, then
 * how it maps them onto the overlay (ovl_map_dev_ino). Even on one file system the overlay's
 * i_ino can differ: a lower hard link keeps its lower number in the cached inode after copy-up,
 * while getattr reports the upper file's. */
static __always_inline void cg_ovl_identity(struct cg_identity* id) {
  if (!bpf_core_type_exists(struct ovl_inode___cg) ||
      !bpf_core_field_exists(struct ovl_fs___cg, xino_mode) ||
      !bpf_core_enum_value_exists(enum ovl_inode_flag___cg, OVL_CONST_INO___cg))
    return;
  struct inode* inode = (struct inode*)id->inode;
  struct ovl_fs___cg* ofs = (void*)BPF_CORE_READ(inode, i_sb, s_fs_info);
  struct ovl_inode___cg* oi =
      (void*)(id->inode - bpf_core_field_offset(struct ovl_inode___cg, vfs_inode));
  const struct ovl_layer___cg* layer = NULL;
  struct dentry* lower = NULL;
  if (bpf_core_field_exists(oi->oe)) {
    struct ovl_entry___cg* oe = BPF_CORE_READ(oi, oe);
    if (oe && BPF_CORE_READ(oe, __numlower)) {
      layer = BPF_CORE_READ(oe, __lowerstack[0].layer);
      lower = BPF_CORE_READ(oe, __lowerstack[0].dentry);
    }
  } else if (bpf_core_field_exists(((struct ovl_inode___lowerpath*)oi)->lowerpath)) {
    struct ovl_inode___lowerpath* old = (void*)oi;
    layer = BPF_CORE_READ(old, lowerpath.layer);
    lower = BPF_CORE_READ(old, lowerpath.dentry);
  } else {
    return;
  }
  struct dentry* upper = BPF_CORE_READ(oi, __upperdentry);

  /* Not copied up: the lower inode. Copied up: its origin's when that origin is known to be its
   * alone (hard links break on copy-up), else the upper inode. */
  bool use_lower = layer && lower;
  if (use_lower && upper) {
    unsigned long flags = BPF_CORE_READ(oi, flags);
    unsigned long const_ino = 1ul << bpf_core_enum_value(enum ovl_inode_flag___cg,
                                                         OVL_CONST_INO___cg);
    unsigned long indexed = 1ul << bpf_core_enum_value(enum ovl_inode_flag___cg, OVL_INDEX___cg);
    bool verify_lower = BPF_CORE_READ(ofs, config.nfs_export) && BPF_CORE_READ(ofs, config.index);
    use_lower = (flags & const_ino) &&
                ((flags & indexed) ||
                 (!verify_lower && BPF_CORE_READ(lower, d_inode, __i_nlink) == 1));
  }
  int fsid = 0;
  __u64 ino = id->ino;
  if (use_lower) {
    fsid = BPF_CORE_READ(layer, fsid);
    ino = BPF_CORE_READ(lower, d_inode, i_ino);
  } else if (upper) {
    ino = BPF_CORE_READ(upper, d_inode, i_ino);
  }

  /* xino_mode: 0, all layers on one file system: real numbers are unique. Above 0, that many
   * high bits carry the layer's fsid, if the number leaves them free. Otherwise the real
   * number with a pseudo device per layer file system. */
  int xino = BPF_CORE_READ(ofs, xino_mode);
  if (xino == 0) {
    id->ino = ino;
    return;
  }
  if (xino > 1 && xino < 64) {
    unsigned int shift = 64 - xino;
    if (!(ino >> shift)) {
      id->ino = ino | ((__u64)fsid << (shift + 1));
      return;
    }
  }
  struct ovl_sb___cg* fs = BPF_CORE_READ(ofs, fs);
  if (!fs || fsid < 0 || (unsigned int)fsid >= BPF_CORE_READ(ofs, numfs))
    return;
  fs = (void*)fs + (__u64)fsid * bpf_core_type_size(struct ovl_sb___cg);
  dev_t dev = BPF_CORE_READ(fs, pseudo_dev);
  if (dev) {
    id->dev = dev;
    id->ino = ino;
  }
}

/* A global function: verified once, on its own, rather than inside every caller's paths. */
__noinline int cg_stat_identity(struct cg_identity* id, __u64 magic) {
  if (!id)
    return 0;
  if (magic == CG_BTRFS_SUPER_MAGIC)
    cg_btrfs_identity(id);
  else if (magic == CG_OVERLAYFS_SUPER_MAGIC)
    cg_ovl_identity(id);
  return 0;
}

static __always_inline bool cg_identity_needs_inode(unsigned long magic) {
  return magic == CG_BTRFS_SUPER_MAGIC || magic == CG_OVERLAYFS_SUPER_MAGIC;
}

/* The identity of file's inode. file must be a BTF pointer (direct loads: this runs on every
 * exec and fork); inode is its f_inode. */
static __always_inline void cg_file_identity(struct file* file, struct inode* inode, __u64* dev,
                                             __u64* ino) {
  struct super_block* sb = inode->i_sb;
  *dev = sb->s_dev;
  *ino = inode->i_ino;
  unsigned long magic = sb->s_magic;
  if (!cg_identity_needs_inode(magic))
    return;
  struct cg_identity id = {.dev = *dev, .ino = *ino};
  bpf_probe_read_kernel(&id.inode, sizeof(id.inode), &file->f_inode);
  cg_stat_identity(&id, magic);
  *dev = id.dev;
  *ino = id.ino;
}

/* The same through probe reads, for pointers that are not BTF-typed. */
static __always_inline void cg_read_file_identity(struct file* file, __u64* dev, __u64* ino) {
  struct inode* inode = BPF_CORE_READ(file, f_inode);
  struct cg_identity id = {
      .inode = (__u64)inode,
      .dev = BPF_CORE_READ(inode, i_sb, s_dev),
      .ino = BPF_CORE_READ(inode, i_ino),
  };
  cg_stat_identity(&id, BPF_CORE_READ(inode, i_sb, s_magic));
  *dev = id.dev;
  *ino = id.ino;
}

#endif
