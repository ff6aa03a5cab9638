/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* Maps shared by every cmdgate BPF object. Objects other than exec.bpf.c reuse exec's map fds. */
#ifndef CMDGATE_MAPS_BPF_H
#define CMDGATE_MAPS_BPF_H

#include "shared/cmdgate_abi.h"

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

struct {
  __uint(type, BPF_MAP_TYPE_HASH);
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
