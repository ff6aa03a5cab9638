#pragma once
// cmdgate's BPF LSM programs (bpf/progs/lsm.bpf.c), loaded into the maps of an already loaded
// exec object so that both decide from the same policy, control block and parked map.

#include <sys/types.h>

#include <memory>
#include <string>
#include <vector>

#include "common/result.h"
#include "probe/bpf_probe.h"

struct cmdgate_lsm;

namespace cmdgate::probe {

// An error when the kernel refuses every LSM program before it even looks at the hook one names
// (EPERM for a program that names none, where a kernel that takes them objects to the missing
// hook instead): then neither the kernel's BTF needs parsing nor the object opening to know the
// answer. OK means undecided.
[[nodiscard]] Status lsm_programs_not_refused_outright();

class LsmProbe {
 public:
  // Opens, shares exec's maps, loads; not attached. Hooks the kernel lacks are left out, except
  // bprm_check_security, without which there is nothing to enforce with: then this fails.
  [[nodiscard]] static Result<std::unique_ptr<LsmProbe>> load(const BpfProbe& exec,
                                                              pid_t daemon_tgid);
  ~LsmProbe();
  LsmProbe(const LsmProbe&) = delete;
  LsmProbe& operator=(const LsmProbe&) = delete;

  [[nodiscard]] Status attach();
  [[nodiscard]] std::vector<NamedLink> links() const;
  // The hooks loaded, e.g. {"bprm_check_security", "task_kill", "ptrace_access_check"}.
  [[nodiscard]] const std::vector<std::string>& hooks() const { return hooks_; }
  // Hooks this kernel does not have (their guard is missing).
  [[nodiscard]] const std::vector<std::string>& missing() const { return missing_; }

 private:
  LsmProbe() = default;
  [[nodiscard]] static Result<std::unique_ptr<LsmProbe>> open_and_load(const BpfProbe& exec,
                                                                       pid_t daemon_tgid);

  cmdgate_lsm* skel_ = nullptr;
  std::vector<std::string> hooks_;
  std::vector<std::string> missing_;
};

}  // namespace cmdgate::probe
