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

struct {
  __uint(type, BPF_MAP_TYPE_HASH);
  __uint(map_flags, BPF_F_NO_PREALLOC);
  __uint(max_entries, 1 << 18);
  __type(key, struct cg_inode_slot_key);
  __type(value, struct cg_inode_verdict);
} rule_inodes SEC(".maps");

struct {
  __uint(type, BPF_MAP_TYPE_LRU_HASH);
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

static __always_inline __u8 cg_max_verdict(__u8 a, __u8 b) {
  return a > b ? a : b;
}

/* An entry's verdict for a process with (agent) or without an agent label; *check_path says
 * whether it is exact only outside the path trie's entries. */
static __always_inline __u8 cg_pick_verdict(__u8 verdict, __u8 agent_verdict, __u8 flags,
                                            bool agent, bool* check_path) {
  *check_path = flags & (agent ? CG_VF_AGENT_CHECK_PATH : CG_VF_CHECK_PATH);
  return agent ? agent_verdict : verdict;
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
  struct cg_inode_slot_key skey = {.dev = f->dev, .ino = f->ino, .slot = slot};
  struct cg_inode_verdict* r = bpf_map_lookup_elem(&rule_inodes, &skey);
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

#endif
