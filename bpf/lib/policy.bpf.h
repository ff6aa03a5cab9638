/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * The in-kernel verdict: the daemon compiles its rules into these maps so that execs whose
 * outcome does not depend on argv, user or ancestry never leave the kernel. Every entry is either
 * exact or says EVALUATE; see docs/architecture.md "Kernel verdicts".
 */
#ifndef CMDGATE_POLICY_BPF_H
#define CMDGATE_POLICY_BPF_H

#include "lib/maps.bpf.h"
#include "lib/path.bpf.h"

#ifndef READ_ONCE
#define READ_ONCE(x) (*(const volatile typeof(x)*)&(x))
#endif
#ifndef WRITE_ONCE
#define WRITE_ONCE(x, v) (*(volatile typeof(x)*)&(x) = (v))
#endif

/* Runtime switches and per-slot class verdicts live in .bss, which the daemon mmaps and writes
 * with single aligned stores: no torn reads, no syscall per heartbeat. */
struct cg_control cg_control = {};
struct cg_policy_meta cg_policy_meta[CG_POLICY_SLOTS] = {};

/* A successor daemon attaches its programs while its predecessor's are still attached (pinned),
 * then takes over with one store: the programs of any other daemon do nothing. */
static __always_inline bool cg_is_owner(void) {
  return READ_ONCE(cg_control.owner_tgid) == cg_daemon_tgid;
}

/* The current task belongs to this object's daemon, and that daemon still runs: a dead daemon's
 * tgid may already name another process. */
static __always_inline bool cg_from_daemon(void) {
  return (bpf_get_current_pid_tgid() >> 32) == cg_daemon_tgid && READ_ONCE(cg_control.daemon_alive);
}

/* The slot the kernel reads, read once per exec so that every lookup of one exec uses one policy;
 * NULL until the daemon enables enforcement, and in programs whose daemon no longer owns it. */
static __always_inline const struct cg_policy_meta* cg_active_policy(__u32* slot) {
  if (!READ_ONCE(cg_control.enabled) || !cg_is_owner())
    return NULL;
  *slot = READ_ONCE(cg_control.active_slot) & (CG_POLICY_SLOTS - 1);
  return &cg_policy_meta[*slot];
}

/* Updating an element of a map-of-maps makes the kernel wait for an RCU grace period, i.e. for
 * every running program to finish. The daemon uses that after flipping the active slot, before
 * it deletes the old slot's entries. */
struct cg_barrier_inner {
  __uint(type, BPF_MAP_TYPE_ARRAY);
  __uint(max_entries, 1);
  __type(key, __u32);
  __type(value, __u32);
} barrier_inner SEC(".maps");

struct {
  __uint(type, BPF_MAP_TYPE_ARRAY_OF_MAPS);
  __uint(max_entries, 1);
  __type(key, __u32);
  __array(values, struct cg_barrier_inner);
} rcu_barrier SEC(".maps") = {
    .values = {[0] = &barrier_inner},
};

/* The files a policy names, in a map of that policy's own per slot: the daemon creates each one
 * at the size its policy needs (agent/probe/policy_maps.cpp, which creates it like this
 * template), so a start does not build the buckets of the largest policy there could be. */
struct cg_rule_inodes_inner {
  __uint(type, BPF_MAP_TYPE_HASH);
  __uint(map_flags, BPF_F_NO_PREALLOC);
  __uint(max_entries, 1);
  /* Sizes, not types: a type reached only through this definition stays a forward declaration
   * in the object's BTF. */
  __uint(key_size, sizeof(struct cg_inode_key));
  __uint(value_size, sizeof(struct cg_inode_verdict));
};

struct {
  __uint(type, BPF_MAP_TYPE_ARRAY_OF_MAPS);
  __uint(max_entries, CG_POLICY_SLOTS);
  __type(key, __u32);
  __array(values, struct cg_rule_inodes_inner);
} rule_inodes SEC(".maps");

/* Allocated per entry, not a preallocated LRU: creating a preallocated map builds every element
 * at once, on the daemon's way to enforcing. Only the daemon writes it, and it makes room when
 * the map is full (agent/probe/learned_room.h). */
struct {
  __uint(type, BPF_MAP_TYPE_HASH);
  __uint(map_flags, BPF_F_NO_PREALLOC);
  __uint(max_entries, 1 << 16);
  __type(key, struct cg_inode_key);
  __type(value, struct cg_learned_verdict);
} learned SEC(".maps");

struct {
  __uint(type, BPF_MAP_TYPE_LPM_TRIE);
  __uint(map_flags, BPF_F_NO_PREALLOC);
  __uint(max_entries, 1 << 16);
  __type(key, struct cg_path_key);
  __type(value, struct cg_path_verdict);
} path_trie SEC(".maps");

struct {
  __uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
  __uint(max_entries, 1);
  __type(key, __u32);
  __type(value, struct cg_path_key);
} path_key_scratch SEC(".maps");

/* What the kernel knows about the executed file. */
struct cg_file_facts {
  __u64 dev;
  __u64 ino;
  __s64 ctime_sec;
  __u32 ctime_nsec;
  __u32 flags; /* CG_EXEC_MEMFD / CG_EXEC_DELETED / CG_EXEC_SCRIPT / CG_EXEC_AGENT_UNKNOWN */
};

#endif
