/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* Maps shared by every cmdgate BPF object. Objects other than exec.bpf.c reuse exec's map fds. */
#ifndef CMDGATE_MAPS_BPF_H
#define CMDGATE_MAPS_BPF_H

#include "shared/cmdgate_abi.h"

/* Read back by the daemon, which refuses an object built against another ABI. */
const volatile __u32 cg_abi_version = CG_ABI_VERSION;
/* The daemon that loaded this object: its own execs are never parked, it alone may resume a
 * parked process, and this object's programs act only while it owns the pinned state. */
const volatile __u32 cg_daemon_tgid = 0;

struct {
  __uint(type, BPF_MAP_TYPE_RINGBUF);
  __uint(max_entries, CG_DEFAULT_RINGBUF_BYTES); /* resized by the loader */
} events SEC(".maps");

struct {
  __uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
  __uint(max_entries, CG_CTR_MAX);
  __type(key, __u32);
  __type(value, __u64);
} counters SEC(".maps");

/* Allocated per entry: preallocating this many slows every start, for a map that is nearly
 * always empty. An entry that cannot be had parks nothing: the exec is killed
 * (CG_CTR_PARK_MAP_FULL). Pinned, like every map here but the scratch ones: a change to its
 * type, sizes or flags needs a new CG_ABI_VERSION, or a successor could not adopt it. */
struct {
  __uint(type, BPF_MAP_TYPE_HASH);
  __uint(map_flags, BPF_F_NO_PREALLOC);
  __uint(max_entries, 65536);
  __type(key, __u32);
  __type(value, struct cg_parked);
} parked SEC(".maps");

static __always_inline void cg_count(enum cg_counter c) {
  __u32 key = c;
  __u64* v = bpf_map_lookup_elem(&counters, &key);
  if (v)
    *v += 1; /* per-CPU slot: no atomics needed */
}

#endif
