#pragma once
// The C++ view of bpf/shared/cmdgate_abi.h. clang -target bpf and g++ must agree on every layout;
// these asserts break the build the moment one side would read the other wrongly.

#include <cstddef>

extern "C" {
#include "shared/cmdgate_abi.h"
}

namespace cmdgate::probe {

static_assert(sizeof(cg_record_header) == 16);
static_assert(offsetof(cg_record_header, size) == 4);
static_assert(offsetof(cg_record_header, ktime_ns) == 8);

static_assert(sizeof(cg_ancestor) == 40);
static_assert(offsetof(cg_ancestor, comm) == 24);

static_assert(offsetof(cg_exec_record, exec_id) == 16);
static_assert(offsetof(cg_exec_record, dev) == 40);
static_assert(offsetof(cg_exec_record, pid) == 88);
static_assert(offsetof(cg_exec_record, uid) == 104);
static_assert(offsetof(cg_exec_record, flags) == 120);
static_assert(offsetof(cg_exec_record, argc) == 128);
static_assert(offsetof(cg_exec_record, verdict) == 132);
static_assert(offsetof(cg_exec_record, path_len) == 134);
static_assert(offsetof(cg_exec_record, args_len) == 140);
static_assert(offsetof(cg_exec_record, comm) == 144);
static_assert(offsetof(cg_exec_record, lineage) == 160);
static_assert(offsetof(cg_exec_record, args_total) == 480);
static_assert(offsetof(cg_exec_record, loginuid) == 484);
static_assert(offsetof(cg_exec_record, agents) == 488);
static_assert(offsetof(cg_exec_record, sessionid) == 496);
static_assert(sizeof(cg_exec_record) == 504);

static_assert(sizeof(cg_exit_record) == 32);
static_assert(sizeof(cg_escape_record) == 48);

static_assert(sizeof(cg_control) == 64);
static_assert(offsetof(cg_control, daemon_exe) == 16);
static_assert(offsetof(cg_control, active_slot) == 48);
static_assert(offsetof(cg_control, owner_tgid) == 52);
static_assert(offsetof(cg_control, daemon_alive) == 58);
static_assert(sizeof(cg_policy_meta) == 16);
static_assert(sizeof(cg_inode_slot_key) == 24);
static_assert(sizeof(cg_inode_verdict) == 8);
static_assert(sizeof(cg_inode_key) == 16);
static_assert(sizeof(cg_learned_verdict) == 24);
static_assert(sizeof(cg_path_key) == 4 + 1 + CG_LPM_PATH_MAX);
static_assert(sizeof(cg_path_verdict) == 8);
static_assert(sizeof(cg_parked) == 24);
static_assert(sizeof(cg_lineage) == 8 + 40 * CG_LINEAGE_DEPTH + 8 * CG_BLOOM_WORDS);
static_assert(sizeof(cg_label) == 16);
static_assert(sizeof(cg_agent_name_key) == 72);
static_assert(offsetof(cg_agent_name_key, name) == 6);
static_assert(offsetof(cg_policy_meta, has_agents) == 15);
static_assert(CG_CTR_MAX == 29);
static_assert(CG_ABI_VERSION == 11);

}  // namespace cmdgate::probe
