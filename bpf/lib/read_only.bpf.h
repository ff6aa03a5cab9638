/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * A read-only view of a trusted BTF pointer, for reading fields of what it points to.
 *
 * Loading a pointer field through a trusted (or RCU) pointer makes the verifier ask whether the
 * field keeps that trust: it looks up "<type>__safe_trusted", "__safe_rcu" and their "_or_null"
 * forms by name, a linear scan of the kernel's BTF each, at every visit of the load; in the exec
 * program those scans were a large share of verifying it. The view bpf_rdonly_cast returns is
 * untrusted, so loads through it skip those lookups and compile to the same fault-handling loads;
 * the kfunc call itself is replaced by a register move. The view cannot be passed to helpers
 * that want a trusted pointer (task storage, bpf_task_pt_regs): keep the original for those.
 *
 * Kernels without the kfunc (before 6.2) do no such lookups; there the CO-RE check below is false
 * when the object is loaded, the verifier drops the call as dead code, and the view is the
 * pointer itself.
 */
#ifndef CMDGATE_READ_ONLY_BPF_H
#define CMDGATE_READ_ONLY_BPF_H

#include <bpf/bpf_core_read.h>
#include <bpf/bpf_helpers.h>

extern void* bpf_rdonly_cast(const void* obj, __u32 btf_id) __ksym __weak;

/* The verifier's own list of the kfuncs it handles specially; this value exists exactly where
 * bpf_rdonly_cast does. A local flavour, so that vmlinux.h need not have the type. */
enum special_kfunc_type___cg { KF_bpf_rdonly_cast___cg };

#define cg_read_only(ptr, type)                                                      \
  (bpf_core_enum_value_exists(enum special_kfunc_type___cg, KF_bpf_rdonly_cast___cg) \
       ? (type*)bpf_rdonly_cast((ptr), bpf_core_type_id_kernel(type))                \
       : (ptr))

#endif
