#pragma once
// The enforcing kernel port: cmdgate's BPF programs on the exec tracepoints, and on the BPF LSM
// hooks where the kernel runs them (decided at load, see load()).

#include <memory>

#include "kernel/enforcement.h"
#include "kernel/kernel_port.h"
#include "kernel/pidfd_process_control.h"
#include "probe/bpf_probe.h"
#include "probe/lsm_probe.h"
#include "probe/parked_map.h"
#include "probe/policy_maps.h"
#include "probe/ring_reader.h"

namespace cmdgate::probe {

struct KernelOptions {
  ProbeOptions probe;
  cg_delivery_failure delivery_failure = CG_FAIL_KILL;
  uint64_t stale_after_ns = 5'000'000'000;
  EnforcementMode enforcement = EnforcementMode::kAuto;
};

class BpfKernelPort final : public KernelPort {
 public:
  // Loads the programs (not yet attached). The LSM programs join when the mode allows them,
  // "bpf" is in the active LSM list and they load; else denials stay with the tracepoint and
  // enforcement() says why. Mode kLsm turns that fallback into an error.
  [[nodiscard]] static Result<std::unique_ptr<BpfKernelPort>> load(const KernelOptions& options);

  Status publish(const rules::KernelPolicy& policy, uint32_t generation) override;
  Status start(RecordHandler on_record) override;
  void leaving() override;
  uint32_t adopted_generation() const override;
  int record_fd() const override;
  void drain() override;
  void heartbeat(uint64_t monotonic_ns) override;
  Learner& learner() override { return learner_; }
  ParkedStore& parked() override { return *parked_; }
  ProcessControl& control() override { return *control_; }
  std::optional<Ancestry> ancestry(int pidfd) const override;
  std::vector<std::pair<std::string, uint64_t>> counters() const override;
  std::string enforcement() const override;
  bool park_escape_proof() const override;
  bool refuses_in_execve() const override { return lsm_ != nullptr; }

 private:
  class MapLearner final : public Learner {
   public:
    void learn(const rules::FileId& file, int64_t ctime_sec, uint32_t ctime_nsec,
               rules::InodeVerdict verdict, uint32_t generation) override;
    PolicyMaps* maps = nullptr;
  };

  BpfKernelPort() = default;
  [[nodiscard]] Status load_lsm(const KernelOptions& options);
  // Once attached: this daemon's programs act from now on, its links replace a predecessor's
  // pins, and state of another ABI is retired.
  [[nodiscard]] Status take_over();
  // cg_control.daemon_exe: this executable, and what is installed at its path now (an upgrade
  // that replaced it) if only root can have put it there.
  void note_daemon_exe();
  void note_installed_exe();
  void fall_back(std::string reason);

  std::unique_ptr<BpfProbe> probe_;
  std::unique_ptr<LsmProbe> lsm_;  // null: the tracepoint alone enforces
  EnforcementMode mode_ = EnforcementMode::kAuto;
  std::string fallback_;  // why there is no LSM
  std::unique_ptr<PolicyMaps> maps_;
  std::unique_ptr<ParkedMap> parked_;
  std::unique_ptr<PidfdProcessControl> control_;
  std::unique_ptr<RingReader> ring_;
  MapLearner learner_;
  std::string exe_path_;  // where this daemon's executable was installed when it started
  uint64_t beats_ = 0;
};

}  // namespace cmdgate::probe
