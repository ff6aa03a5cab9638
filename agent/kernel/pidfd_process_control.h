#pragma once

#include "kernel/parked_store.h"
#include "kernel/process_control.h"

namespace cmdgate {

class PidfdProcessControl final : public ProcessControl {
 public:
  explicit PidfdProcessControl(ParkedStore& parked) : parked_(parked) {}

  Result<ProcessHandle> pin(uint32_t tgid, uint64_t exec_id) override;
  Status resume(ProcessHandle& p) override;
  Status kill(ProcessHandle& p) override;

 private:
  ParkedStore& parked_;
};

}  // namespace cmdgate
