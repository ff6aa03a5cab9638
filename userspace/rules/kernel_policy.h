#pragma once
// What the kernel is told about a compiled policy: verdicts it may take alone. Each entry is
// exact (the full evaluation would give the same outcome for every exec it covers) or says
// kEvaluate. Derivation: kernel_verdicts.h; the BPF lookup it feeds: bpf/shared/cmdgate_verdict.h.

#include <cstdint>
#include <string>
#include <vector>

#include "rules/exec_context.h"

namespace cmdgate::rules {

// Same values as enum cg_verdict in bpf/shared/cmdgate_abi.h (static_asserted in the agent).
enum class KernelVerdict : uint8_t { kNone = 0, kAllow = 1, kAudit = 2, kEvaluate = 3, kDeny = 4 };

const char* to_string(KernelVerdict v);

// Every verdict comes twice: for processes known to carry no agent label, which no `agent` rule
// can match, and (agent_*) for the others: labelled, or whose label the kernel could not
// establish. An agent verdict left unset evaluates.
struct InodeVerdict {
  KernelVerdict verdict = KernelVerdict::kNone;
  // Exact only for paths outside every PathEntry; under one, the kernel evaluates instead.
  bool check_path = false;
  KernelVerdict agent_verdict = KernelVerdict::kEvaluate;
  bool agent_check_path = false;
  friend bool operator==(const InodeVerdict&, const InodeVerdict&) = default;
};

struct InodeEntry {
  FileId file;
  InodeVerdict verdict;
};

// Every path starting with prefix, unless a longer entry also covers it.
struct PathEntry {
  std::string prefix;
  KernelVerdict verdict = KernelVerdict::kNone;
  KernelVerdict agent_verdict = KernelVerdict::kEvaluate;
};

// What labels a process with agent bits (bpf/lib/label.bpf.h): its executable, the directory
// its executable is in, its comm or its cgroup v2 leaf name.
struct AgentFileEntry {
  FileId file;
  uint64_t bits = 0;
};

enum class AgentNameKind : uint8_t { kComm = 0, kUnit = 1 };  // enum cg_agent_name_kind

struct AgentNameEntry {
  AgentNameKind kind = AgentNameKind::kComm;
  std::string name;     // without the '*' of a prefix
  bool prefix = false;  // "name*": every name that starts with it
  uint64_t bits = 0;
};

struct KernelPolicy {
  KernelVerdict default_verdict = KernelVerdict::kEvaluate;
  KernelVerdict memfd_verdict = KernelVerdict::kNone;
  KernelVerdict deleted_verdict = KernelVerdict::kNone;
  KernelVerdict script_verdict = KernelVerdict::kNone;
  // For an image that runs without a program interpreter (a loader run directly): what the
  // program it may map could get, since only the daemon can read which one it is.
  KernelVerdict loader_verdict = KernelVerdict::kNone;
  KernelVerdict agent_default_verdict = KernelVerdict::kEvaluate;
  KernelVerdict agent_memfd_verdict = KernelVerdict::kEvaluate;
  KernelVerdict agent_deleted_verdict = KernelVerdict::kEvaluate;
  KernelVerdict agent_script_verdict = KernelVerdict::kEvaluate;
  KernelVerdict agent_loader_verdict = KernelVerdict::kEvaluate;
  std::vector<InodeEntry> inodes;
  std::vector<PathEntry> paths;
  // Declared agents: the kernel labels processes only when some are.
  bool has_agents = false;
  std::vector<AgentFileEntry> agent_files;
  std::vector<AgentFileEntry> agent_dirs;
  std::vector<AgentNameEntry> agent_names;
};

}  // namespace cmdgate::rules
