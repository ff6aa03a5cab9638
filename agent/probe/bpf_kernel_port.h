#pragma once
// The enforcing kernel port: cmdgate's BPF programs on the exec tracepoints.

#include <memory>

#include "kernel/kernel_port.h"
#include "kernel/pidfd_process_control.h"
#include "probe/bpf_probe.h"
#include "probe/parked_map.h"
#include "probe/policy_maps.h"
#include "probe/ring_reader.h"

namespace cmdgate::probe {

struct KernelOptions {
  ProbeOptions probe;
  cg_delivery_failure delivery_failure = CG_FAIL_KILL;
  uint64_t stale_after_ns = 5'000'000'000;
};

class BpfKernelPort final : public KernelPort {
 public:
  // Loads the programs (not yet attached).
  [[nodiscard]] static Result<std::unique_ptr<BpfKernelPort>> load(const KernelOptions& options);

  Status publish(const rules::KernelPolicy& policy, uint32_t generation) override;
  Status start(RecordHandler on_record) override;
  void stop_parking() override;
  int record_fd() const override;
  void drain() override;
  void heartbeat(uint64_t monotonic_ns) override;
  Learner& learner() override { return learner_; }
  ParkedStore& parked() override { return *parked_; }
  ProcessControl& control() override { return *control_; }
  std::optional<Ancestry> ancestry(int pidfd) const override;
  std::vector<std::pair<std::string, uint64_t>> counters() const override;
  std::string enforcement() const override;

 private:
  class MapLearner final : public Learner {
   public:
    void learn(const rules::FileId& file, int64_t ctime_sec, uint32_t ctime_nsec,
               rules::InodeVerdict verdict, uint32_t generation) override;
    PolicyMaps* maps = nullptr;
  };

  BpfKernelPort() = default;

  std::unique_ptr<BpfProbe> probe_;
  std::unique_ptr<PolicyMaps> maps_;
  std::unique_ptr<ParkedMap> parked_;
  std::unique_ptr<PidfdProcessControl> control_;
  std::unique_ptr<RingReader> ring_;
  MapLearner learner_;
};

}  // namespace cmdgate::probe
