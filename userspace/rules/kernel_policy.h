#pragma once
// What the kernel is told about a compiled policy: verdicts it may take alone. Each entry is
// exact (the full evaluation would give the same outcome for every exec it covers) or says
// kEvaluate. Derivation: kernel_verdicts.h; the BPF lookup it feeds: bpf/progs/exec.bpf.c.

#include <cstdint>
#include <string>
#include <vector>

#include "rules/exec_context.h"

namespace cmdgate::rules {

// Same values as enum cg_verdict in bpf/shared/cmdgate_abi.h (static_asserted in the agent).
enum class KernelVerdict : uint8_t { kNone = 0, kAllow = 1, kAudit = 2, kEvaluate = 3, kDeny = 4 };

const char* to_string(KernelVerdict v);

struct InodeVerdict {
  KernelVerdict verdict = KernelVerdict::kNone;
  // Exact only for paths outside every PathEntry; under one, the kernel evaluates instead.
  bool check_path = false;
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
};

struct KernelPolicy {
  KernelVerdict default_verdict = KernelVerdict::kEvaluate;
  KernelVerdict memfd_verdict = KernelVerdict::kNone;
  KernelVerdict deleted_verdict = KernelVerdict::kNone;
  KernelVerdict script_verdict = KernelVerdict::kNone;
  // For an image that runs without a program interpreter (a loader run directly): what the
  // program it may map could get, since only the daemon can read which one it is.
  KernelVerdict loader_verdict = KernelVerdict::kNone;
  std::vector<InodeEntry> inodes;
  std::vector<PathEntry> paths;
};

}  // namespace cmdgate::rules
