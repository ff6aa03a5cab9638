/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * The contract between cmdgate's BPF programs and the daemon: ring-buffer records, map keys and
 * values, counters. Plain C with fixed-width types and explicit padding so that clang -target bpf
 * and g++ lay every struct out identically; agent/probe/abi_check.h static_asserts that.
 *
 * Change anything here and bump CG_ABI_VERSION: the daemon refuses BPF objects whose rodata
 * carries a different version.
 */
#ifndef CMDGATE_ABI_H
#define CMDGATE_ABI_H

#ifndef __VMLINUX_H__
#include <linux/types.h>
#endif

#define CG_ABI_VERSION 11u

#define CG_COMM_LEN 16
#define CG_LINEAGE_DEPTH 8
#define CG_PATH_MAX 4096      /* resolved path of the executed file, with NUL */
#define CG_FILENAME_MAX 1024  /* bprm->filename of a script exec, with NUL */
#define CG_INTERP_MAX 256     /* bprm->interp of a script exec, with NUL */
#define CG_ARGS_MAX 8192      /* argv bytes (NUL-separated) copied from the new mm */
#define CG_DATA_MAX (CG_PATH_MAX + CG_FILENAME_MAX + CG_INTERP_MAX + CG_ARGS_MAX)
#define CG_LPM_PATH_MAX 255   /* path bytes in a path-trie key */
#define CG_POLICY_SLOTS 2     /* policies are double-buffered: the kernel reads one slot */
#define CG_DEFAULT_RINGBUF_BYTES (1u << 20)
#define CG_AGENT_BITS 64      /* declared agents a label can name */
#define CG_AGENT_NAME_MAX 64  /* comm or cgroup leaf name bytes in an agent-name key, with NUL */
#define CG_LABEL_WALK_MAX 64  /* ancestors a live walk visits to label a process */

/* ---- Verdicts ------------------------------------------------------------------------------ */

/* Ordered by strictness: combining two verdicts takes the larger. */
enum cg_verdict {
  CG_VERDICT_NONE = 0,     /* no entry: keep looking */
  CG_VERDICT_ALLOW = 1,    /* run, no event */
  CG_VERDICT_AUDIT = 2,    /* run, event without wakeup (drained on a timer) */
  CG_VERDICT_EVALUATE = 3, /* park (SIGSTOP), event with wakeup, the daemon decides */
  CG_VERDICT_DENY = 4,     /* SIGKILL before the first instruction, event without wakeup */
};

/* Flags of a verdict entry. */
enum cg_verdict_flags {
  /* The entry is exact only for paths outside every path-trie entry; inside one, evaluate. */
  CG_VF_CHECK_PATH = 1u << 0,
  /* The same for agent_verdict. */
  CG_VF_AGENT_CHECK_PATH = 1u << 1,
};

/* What the kernel does with an exec that needs the daemon when the daemon cannot be told. */
enum cg_delivery_failure {
  CG_FAIL_KILL = 0, /* SIGKILL at once (fail closed) */
  CG_FAIL_HOLD = 1, /* stay parked; the daemon finds it in the parked map when it recovers */
};

/* ---- Ring-buffer records ------------------------------------------------------------------- */

enum cg_record_type {
  CG_RECORD_EXEC = 1,
  CG_RECORD_EXIT = 2,   /* a parked process went away */
  CG_RECORD_ESCAPE = 3, /* somebody else resumed a parked process; the kernel killed it */
};

/* Every record starts with this header; size covers the whole record, header included. */
struct cg_record_header {
  __u16 type;
  __u16 flags;
  __u32 size;
  __u64 ktime_ns; /* bpf_ktime_get_ns() when the record was built */
};

enum cg_exec_flags {
  CG_EXEC_TTY = 1u << 0,                /* the task has a controlling terminal */
  CG_EXEC_SCRIPT = 1u << 1,             /* #! or binfmt_misc: file is the interpreter */
  CG_EXEC_MEMFD = 1u << 2,              /* executed file is a memfd (fileless) */
  CG_EXEC_DELETED = 1u << 3,            /* executed file has no links left */
  CG_EXEC_ARGS_TRUNCATED = 1u << 4,     /* argv longer than CG_ARGS_MAX */
  CG_EXEC_PATH_TRUNCATED = 1u << 5,     /* path deeper or longer than the walk allows */
  CG_EXEC_FILENAME_TRUNCATED = 1u << 6, /* script filename longer than CG_FILENAME_MAX */
  CG_EXEC_PARKED = 1u << 7,             /* SIGSTOP sent and a parked-map entry exists */
  CG_EXEC_KILLED = 1u << 8,             /* SIGKILL sent by the kernel */
  CG_EXEC_FAILSAFE = 1u << 9,           /* the delivery-failure policy was applied */
  CG_EXEC_SIGNAL_FAILED = 1u << 10,     /* bpf_send_signal failed: the daemon must act */
  CG_EXEC_LINEAGE_FROM_TASK = 1u << 11, /* process predates the agent: lineage walked live */
  CG_EXEC_DAEMON_STALE = 1u << 12,      /* the daemon's heartbeat was older than allowed */
  /* Refused inside execve by the BPF LSM (-EPERM): nothing was committed, the caller runs on.
   * pid, comm and credentials are the caller's; argv is not recorded (args_len 0). */
  CG_EXEC_LSM_DENIED = 1u << 13,
  /* The new image runs without a program interpreter although it is a shared object (ET_DYN):
   * a static-pie program, or a dynamic loader run directly (`ld.so PROGRAM`), which maps and runs
   * a program the kernel never judged. The daemon judges argv's program as well. */
  CG_EXEC_NO_INTERP = 1u << 14,
  /* The agent label could not be established (cg_label.flags CG_LABEL_UNKNOWN): any agent's bit
   * may apply beyond those in cg_exec_record.agents. */
  CG_EXEC_AGENT_UNKNOWN = 1u << 15,
};

/* One ancestor as it was when its child was forked (reparenting cannot rewrite it). */
struct cg_ancestor {
  __u64 dev; /* the executable's st_dev in the kernel's dev_t encoding (see cg_inode_key) */
  __u64 ino;
  __u32 tgid;
  __u32 sid; /* its session id when its child was forked */
  char comm[CG_COMM_LEN];
};

/*
 * CG_RECORD_EXEC. Followed by the variable part, in this order and with these lengths (each
 * string NUL-terminated, lengths include the NUL, 0 means absent):
 *   path[path_len] filename[filename_len] interp[interp_len] args[args_len]
 * args holds argv[0..argc) separated by NULs, possibly cut short (CG_EXEC_ARGS_TRUNCATED).
 */
struct cg_exec_record {
  struct cg_record_header hdr;
  __u64 exec_id;           /* unique per exec; the parked-map entry carries the same value */
  __u64 start_boottime_ns; /* task start time: tells a recycled pid apart */
  __u64 cgroup_id;         /* cgroup v2 id */
  __u64 dev;               /* the executed file's st_dev, kernel encoding (cg_inode_key) */
  __u64 ino;
  __u64 size;
  __s64 mtime_sec;
  __s64 ctime_sec;
  __u32 mtime_nsec;
  __u32 ctime_nsec;
  __u32 pid;
  __u32 tgid;
  __u32 ppid; /* current real parent */
  __u32 sid;  /* session id */
  __u32 uid;  /* real ids */
  __u32 gid;
  __u32 euid;
  __u32 egid;
  __u32 flags; /* enum cg_exec_flags */
  __u32 policy_generation;
  __u32 argc;
  __u8 verdict; /* enum cg_verdict the kernel applied */
  __u8 lineage_depth;
  __u16 path_len;
  __u16 filename_len;
  __u16 interp_len;
  __u16 args_len;
  __u16 _pad0;
  char comm[CG_COMM_LEN];
  struct cg_ancestor lineage[CG_LINEAGE_DEPTH]; /* [0] is the parent */
  __u32 args_total; /* argv bytes in the new image; more than args_len when cut */
  __u32 loginuid;   /* audit login uid at the exec, (__u32)-1 when unset or the kernel has none */
  __u64 agents;     /* the process's agent label (cg_label.agents) after this exec */
  __u32 sessionid;  /* audit session id at the exec, (__u32)-1 likewise */
  __u32 _pad1;
};

/* CG_RECORD_EXIT: a process that was parked has exited (killed, or its session went away). */
struct cg_exit_record {
  struct cg_record_header hdr;
  __u64 exec_id;
  __u32 tgid;
  __s32 exit_code;
};

/* CG_RECORD_ESCAPE: a parked process was made to run by someone other than the daemon: a SIGCONT
 * (signal 18), or a wakeup without one (signal 0: a ptrace request). */
struct cg_escape_record {
  struct cg_record_header hdr;
  __u64 exec_id;
  __u32 target_tgid;
  __u32 sender_tgid;
  __u32 sender_uid;
  __u32 signal;
  __u32 kill_sent; /* 1 if the kernel sent SIGKILL to the target */
  __u32 _pad;
};

/* ---- State the daemon writes ---------------------------------------------------------------- */

/* A file by identity: the (st_dev, st_ino) stat(2) reports for it, st_dev in the kernel's dev_t
 * encoding (MAJOR << 20 | MINOR). Not always its superblock's device: see lib/identity.bpf.h. */
struct cg_inode_key {
  __u64 dev;
  __u64 ino;
};

/* Runtime switches: a .bss global the daemon mmaps and updates field by field. The maps and
 * .bss are pinned, so they outlive the daemon that wrote them: a successor adopts them. */
struct cg_control {
  __u64 heartbeat_ns;   /* daemon's last bpf_ktime (CLOCK_MONOTONIC) heartbeat */
  __u64 stale_after_ns; /* heartbeat older than this: the daemon is gone */
  /* While no daemon runs, an exec of one of these files is never held or killed for want of a
   * daemon, so that one can always start again (restart, upgrade, --uninstall): the daemon's own
   * executable, and the file installed at its path (an upgrade's) when it last looked. Rules
   * that deny them still apply. Kernel dev_t encoding; zero: unused. */
  struct cg_inode_key daemon_exe[2];
  __u32 active_slot;    /* which policy slot the kernel reads */
  /* The tgid of the daemon whose programs enforce. Every program compares it with its own
   * rodata cg_daemon_tgid and does nothing on a mismatch, so a successor attaches its programs
   * first and then takes over with one store. */
  __u32 owner_tgid;
  __u8 delivery_failure; /* enum cg_delivery_failure */
  __u8 enabled;          /* 0: observe nothing (programs attached, policy not yet loaded) */
  /* 1 while the owning daemon runs; cleared by the kernel when it exits (crash included) and by
   * the daemon when it stops. While 0, execs that need the daemon follow delivery_failure, and
   * its tgid (which the system may hand to another process) earns no exemption. */
  __u8 daemon_alive;
  __u8 _pad[5];
};

/* cg_policy_meta[slot] (.bss): verdicts for classes of files that have no entry of their own. */
struct cg_policy_meta {
  __u32 generation;
  __u8 default_verdict; /* file in no map and under no path entry */
  __u8 memfd_verdict;   /* memfd: overrides everything when not NONE */
  __u8 deleted_verdict; /* file without links: overrides everything when not NONE */
  __u8 script_verdict;  /* combined (max) with the interpreter's verdict for #! execs */
  __u8 has_paths;       /* the path trie has entries for this slot */
  __u8 loader_verdict;  /* combined (max) for CG_EXEC_NO_INTERP images: what they may load */
  /* The same five for a process that carries an agent label or whose label is unknown; the
   * verdicts above are for processes known to carry none, which no `agent` rule can match. */
  __u8 agent_default_verdict;
  __u8 agent_memfd_verdict;
  __u8 agent_deleted_verdict;
  __u8 agent_script_verdict;
  __u8 agent_loader_verdict;
  __u8 has_agents; /* agents are declared: label processes (agent_files, agent_dirs, agent_names) */
};

/* A file in a map that holds both policy slots (agent_files, agent_dirs). */
struct cg_inode_slot_key {
  __u64 dev;
  __u64 ino;
  __u32 slot;
  __u32 _pad;
};

/* rule_inodes: per slot, a map of the files that policy's exact-path rules name, keyed by
 * cg_inode_key. verdict for processes without an agent label, agent_verdict for the others
 * (cg_policy_meta). */
struct cg_inode_verdict {
  __u8 verdict;
  __u8 flags; /* enum cg_verdict_flags */
  __u8 agent_verdict;
  __u8 _pad[5];
};

/* learned: verdicts the daemon derived after evaluating a file (e.g. its hash); valid while
 * the generation matches the active slot and the file's ctime has not moved. Keyed by
 * cg_inode_key. */
struct cg_learned_verdict {
  __s64 ctime_sec;
  __u32 ctime_nsec;
  __u32 generation;
  __u8 verdict;
  __u8 flags;
  __u8 agent_verdict;
  __u8 _pad[5];
};

/* path_trie: longest-prefix match of (slot, resolved path) against path-glob prefixes. */
struct cg_path_key {
  __u32 prefixlen; /* bits, counting the slot byte */
  __u8 slot;
  __u8 path[CG_LPM_PATH_MAX];
};

struct cg_path_verdict {
  __u8 verdict;
  __u8 agent_verdict;
  __u8 _pad[6];
};

/* ---- Agent labels ------------------------------------------------------------------------- */

/* agent_label (task storage): which declared agents a process descends from. Set when the
 * process execs an agent's file (agent_files, or a file in agent_dirs), runs under an agent's
 * comm or cgroup leaf name (agent_names), and copied to every child at fork, so it survives
 * reparenting, setsid and double forks. Bits are never cleared. */
struct cg_label {
  __u64 agents;
  __u32 flags; /* enum cg_label_flags */
  __u32 _pad;
};

enum cg_label_flags {
  /* A process that predates labelling whose live ancestry could not be walked to its end
   * (CG_LABEL_WALK_MAX): an agent may be among the ancestors not seen. */
  CG_LABEL_UNKNOWN = 1u << 0,
};

/* agent_files and agent_dirs: value __u64 agent bits, keyed by cg_inode_slot_key (a file's
 * identity, or the identity of the directory an executed file is in). */

/* agent_names: longest-prefix match of (slot, kind, name). An exact name's key covers its NUL
 * too; a "prefix*" name covers only the prefix. */
enum cg_agent_name_kind {
  CG_AGENT_COMM = 0, /* the task's comm after exec */
  CG_AGENT_UNIT = 1, /* the name of the task's cgroup v2 leaf (a systemd unit) */
};

struct cg_agent_name_key {
  __u32 prefixlen; /* bits, counting the slot and kind bytes */
  __u8 slot;
  __u8 kind; /* enum cg_agent_name_kind */
  char name[CG_AGENT_NAME_MAX];
  __u8 _pad[2];
};

/* parked[tgid]: every process the kernel stopped for the daemon, until the daemon decides. */
struct cg_parked {
  __u64 exec_id;
  __u64 parked_ns;
  __u32 flags; /* enum cg_parked_flags */
  __u32 _pad;
};

enum cg_parked_flags {
  CG_PARKED_UNDELIVERED = 1u << 0, /* its event never reached the ring buffer */
  CG_PARKED_ESCAPED = 1u << 1,     /* made to run by someone else: killed, reported once */
};

/* Per-task lineage kept in task storage from fork on: the nearest CG_LINEAGE_DEPTH ancestors
 * in full, and every ancestor's tgid, however deep, in a Bloom filter (a bit set by
 * cg_ancestry_bits for each). The filter answers "could X be an ancestor?" with no false
 * negatives; a false positive only makes the daemon refuse an approval it could have taken. */
#define CG_BLOOM_WORDS 32
#define CG_BLOOM_HASHES 5
struct cg_lineage {
  __u32 depth;
  __u32 _pad;
  struct cg_ancestor ancestors[CG_LINEAGE_DEPTH];
  __u64 bloom[CG_BLOOM_WORDS];
};

/* The CG_BLOOM_HASHES bits (0..2047) a tgid sets in cg_lineage.bloom; shared by BPF and the
 * daemon. The daemon consults the filter only beyond the exact chain; with 20 ancestors recorded
 * a false positive per tested pid is about 2.5e-7 (it was 2e-3 with 512 bits and 3 correlated
 * hashes, which refused one approval in a few hundred from deep shells). */
static inline __u32 cg_bloom_bit(__u32 tgid, __u32 which) {
  /* splitmix64's finalizer, then one 11-bit slice per hash: the slices are independent, which
   * per-hash constants over one multiply are not. */
  __u64 z = (__u64)tgid + 0x9E3779B97F4A7C15ull;
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
  z ^= z >> 31;
  return (__u32)(z >> (11 * (which % CG_BLOOM_HASHES))) & (CG_BLOOM_WORDS * 64 - 1);
}

/* ---- Counters (per-CPU array, summed by the daemon) ---------------------------------------- */

enum cg_counter {
  CG_CTR_EXEC = 0,
  CG_CTR_VERDICT_ALLOW,
  CG_CTR_VERDICT_AUDIT,
  CG_CTR_VERDICT_EVALUATE,
  CG_CTR_VERDICT_DENY,
  CG_CTR_RINGBUF_FULL,      /* a record could not be written */
  CG_CTR_SCRATCH_MISSING,   /* per-CPU scratch lookup failed */
  CG_CTR_LINEAGE_FAILED,    /* task storage could not be created or read */
  CG_CTR_PATH_TRUNCATED,
  CG_CTR_ARGS_READ_FAILED,
  CG_CTR_PARK_MAP_FULL,     /* no parked-map entry could be had (full, or no memory): killed */
  CG_CTR_SIGNAL_FAILED,
  CG_CTR_FAILSAFE_KILL,
  CG_CTR_FAILSAFE_HOLD,
  CG_CTR_DAEMON_STALE,
  CG_CTR_PARKED_EXIT,
  CG_CTR_ESCAPE_KILLED,
  CG_CTR_ESCAPE_KILL_FAILED,
  CG_CTR_FORK,
  CG_CTR_LSM_BPRM_CHECK,      /* bprm_check_security calls (one per binfmt level) */
  CG_CTR_LSM_DENY,            /* execs refused with EPERM by the LSM */
  CG_CTR_LSM_SIGNAL_REFUSED,  /* signals to a parked process or the daemon refused */
  CG_CTR_LSM_PTRACE_REFUSED,  /* ptrace attaches to a parked process or the daemon refused */
  CG_CTR_SCRATCH_RACE,        /* per-CPU scratch reused by a preempting exec (LSM only) */
  CG_CTR_NO_INTERP,           /* execs of an ET_DYN image without interpreter (loader or static) */
  CG_CTR_DAEMON_EXIT,         /* the owning daemon exited */
  CG_CTR_LABEL_FAILED,        /* agent label storage could not be created: label unknown */
  CG_CTR_LABEL_UNKNOWN,       /* a live walk could not establish a process's label */
  CG_CTR_LABEL_SET,           /* a process became an agent (exec, comm or unit) */
  CG_CTR_MAX,
};

#ifdef __bpf__
/* The same layout checks as agent/probe/abi_check.h, made by the BPF compiler. */
_Static_assert(sizeof(struct cg_record_header) == 16, "cg_record_header");
_Static_assert(sizeof(struct cg_ancestor) == 40, "cg_ancestor");
_Static_assert(__builtin_offsetof(struct cg_exec_record, lineage) == 160, "cg_exec_record");
_Static_assert(sizeof(struct cg_exec_record) == 504, "cg_exec_record");
_Static_assert(sizeof(struct cg_exit_record) == 32, "cg_exit_record");
_Static_assert(sizeof(struct cg_escape_record) == 48, "cg_escape_record");
_Static_assert(sizeof(struct cg_control) == 64, "cg_control");
_Static_assert(sizeof(struct cg_policy_meta) == 16, "cg_policy_meta");
_Static_assert(sizeof(struct cg_path_key) == 260, "cg_path_key");
_Static_assert(sizeof(struct cg_learned_verdict) == 24, "cg_learned_verdict");
_Static_assert(sizeof(struct cg_parked) == 24, "cg_parked");
_Static_assert(sizeof(struct cg_lineage) == 8 + 40 * CG_LINEAGE_DEPTH + 256, "cg_lineage");
_Static_assert(sizeof(struct cg_label) == 16, "cg_label");
_Static_assert(sizeof(struct cg_agent_name_key) == 72, "cg_agent_name_key");
_Static_assert(sizeof(struct cg_inode_verdict) == 8, "cg_inode_verdict");
_Static_assert(CG_CTR_MAX == 29, "cg_counter");
#endif

#endif /* CMDGATE_ABI_H */
