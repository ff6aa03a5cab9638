#pragma once
// The kernel's verdict for an exec, in user space: the BPF programs' own decision
// (bpf/shared/cmdgate_verdict.h) run over the entries the daemon writes into the maps
// (policy_image.h). The tests check with it that every verdict the kernel takes alone agrees with
// the full evaluation; `cmdgate explain` shows it.

#include <optional>
#include <string>

#include "rules/kernel_policy.h"

namespace cmdgate::rules {

struct KernelFacts {
  FileId file;
  std::string path;
  uint8_t file_kinds = 0;  // FileKind bits
  bool script = false;
  std::optional<InodeVerdict> learned;  // a learned entry for this exact file, if any
  bool no_interp = false;  // CG_EXEC_NO_INTERP: a loader run directly, or a static-pie program
  bool labelled = false;   // an agent label, or an unknown one (CG_EXEC_AGENT_UNKNOWN)
  bool path_cut = false;   // the kernel's walk could not resolve the whole path
};

[[nodiscard]] KernelVerdict simulate_kernel(const KernelPolicy& kp,
                                                   const KernelFacts& facts);

}  // namespace cmdgate::rules
