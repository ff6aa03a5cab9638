#pragma once
// Derives what the kernel may decide alone from a compiled policy.
//
// The BPF lookup (bpf/shared/cmdgate_verdict.h) is: memfd/deleted class verdict; else the learned
// entry for the file's (device, inode), else its rule entry; when that is missing or has
// check_path, the longest path entry covering the resolved path; else the default. Script execs
// take the stricter of that and the script verdict.
//
// Each verdict below is computed by a three-valued first-match scan over the rules under what the
// kernel knows at that step (file identity, path region, file kind); argv, user, ancestry, tty
// and cgroup are always unknown. Every verdict is derived twice: for processes known to carry no
// agent label, where every `agent` rule is known not to match, and for the others, where it may. Outcomes that are certain give an exact verdict; anything else
// gives kEvaluate, so the kernel never decides an exec the policy would decide differently.

#include <functional>
#include <memory>
#include <optional>
#include <string>

#include "rules/kernel_policy.h"
#include "rules/policy.h"

namespace cmdgate::rules {

// True when the file at path starts with "#!": only such a file can be the script of a script
// exec, so an exact-path rule naming a binary cannot match one.
using ShebangProbe = std::function<bool(const std::string& path)>;

[[nodiscard]] bool file_starts_with_shebang(const std::string& path);

class Analyzer;  // kernel_verdicts.cpp

// Built once per policy snapshot (it indexes the rules' file targets and path regions); not
// thread-safe. The policy must outlive it.
class KernelVerdicts {
 public:
  // tell_denials: a denial by a rule with something to tell the caller (rules::told) needs the
  // daemon, where the kernel would kill the process before anyone could tell it (the exec
  // tracepoint): such rules give EVALUATE instead of DENY.
  explicit KernelVerdicts(const Policy& policy,
                          const ShebangProbe& is_script = file_starts_with_shebang,
                          bool tell_denials = false);
  ~KernelVerdicts();
  KernelVerdicts(const KernelVerdicts&) = delete;
  KernelVerdicts& operator=(const KernelVerdicts&) = delete;

  [[nodiscard]] KernelPolicy policy() const;

  // The verdicts for one file the daemon has evaluated and whose hash and Trust bits it may
  // know, for processes with and without an agent label; kEvaluate where the kernel cannot take
  // it alone. The labelled verdict assumes the file is no copy of a held tool (held_tools.h): the
  // daemon must not learn it unless it compared the file's content.
  [[nodiscard]] InodeVerdict learned(const FileId& file, const Sha256* sha256,
                                     std::optional<uint8_t> trust = std::nullopt) const;

 private:
  std::unique_ptr<Analyzer> analyzer_;
};

// The class an evaluated decision falls in, as the kernel names them.
[[nodiscard]] KernelVerdict kernel_class(const Decision& d);

}  // namespace cmdgate::rules
