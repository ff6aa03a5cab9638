#pragma once
// Seam for acting on parked processes. A handle pins the process with a pidfd taken while the
// kernel's parked entry still named that exec, so a recycled pid is never signalled.

#include <cstdint>
#include <memory>

#include "common/fd.h"
#include "common/result.h"

namespace cmdgate {

struct ProcessHandle {
  uint32_t tgid = 0;
  uint64_t exec_id = 0;
  Fd pidfd;
};

class ProcessControl {
 public:
  virtual ~ProcessControl() = default;
  // Fails when the process is gone or no longer parked for that exec.
  [[nodiscard]] virtual Result<ProcessHandle> pin(uint32_t tgid, uint64_t exec_id) = 0;
  // Clears the parked entry, then SIGCONT.
  [[nodiscard]] virtual Status resume(ProcessHandle& p) = 0;
  // SIGKILL, then clears the parked entry.
  [[nodiscard]] virtual Status kill(ProcessHandle& p) = 0;
};

}  // namespace cmdgate
