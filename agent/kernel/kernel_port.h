#pragma once
// Everything the daemon needs from the kernel, behind one seam: the BPF implementation
// (probe/bpf_kernel_port.h) enforces; the evaluation-only one (kernel/evaluation_only_port.h)
// lets many agents share every other code path on one host (fleet tests) without BPF.

#include <array>
#include <cstddef>
#include <optional>
#include <cstdint>
#include <functional>
#include <span>
#include <string>
#include <utility>
#include <vector>

#include "common/result.h"
#include "kernel/learner.h"
#include "kernel/parked_store.h"
#include "kernel/process_control.h"
#include "rules/kernel_policy.h"

namespace cmdgate {

// A process's ancestry as the kernel recorded it at fork time.
struct Ancestry {
  std::vector<uint32_t> tgids;  // nearest first, up to CG_LINEAGE_DEPTH
  bool truncated = false;       // tgids stops short of init: deeper ancestors are only in bloom
  std::array<uint64_t, 32> bloom{};  // every ancestor's tgid, see cg_lineage in the ABI
  // The process's agent label (cg_label), when the kernel holds one it could establish.
  std::optional<uint64_t> agents;
};

class KernelPort {
 public:
  using RecordHandler = std::function<void(std::span<const std::byte>)>;

  virtual ~KernelPort() = default;

  // Makes this policy the one the kernel applies, atomically. Returns once no program still
  // decides under the previous one: every record of an older generation is in the ring then.
  [[nodiscard]] virtual Status publish(const rules::KernelPolicy& policy, uint32_t generation) = 0;
  // Starts enforcing (after the first publish). READY may be announced once this returns.
  [[nodiscard]] virtual Status start(RecordHandler on_record) = 0;
  // The daemon is about to exit: from now on an exec that needs it follows delivery_failure
  // (killed, or held for the next daemon) instead of waiting. Where the state is pinned the
  // kernel keeps enforcing the last policy after the exit; else enforcement ends with it.
  virtual void leaving() = 0;
  // The generation of a predecessor's policy still in force (pinned state adopted), else 0:
  // this daemon's generations continue after it, so no learned verdict is taken for its own.
  [[nodiscard]] virtual uint32_t adopted_generation() const { return 0; }
  // Readable when records wait; -1 when there is no record source.
  [[nodiscard]] virtual int record_fd() const = 0;
  // Hands every waiting record to the handler given to start().
  virtual void drain() = 0;
  virtual void heartbeat(uint64_t monotonic_ns) = 0;

  virtual Learner& learner() = 0;
  virtual ParkedStore& parked() = 0;
  virtual ProcessControl& control() = 0;

  // The fork-time ancestry of the process behind pidfd; nullopt when the kernel has none.
  [[nodiscard]] virtual std::optional<Ancestry> ancestry(int pidfd) const = 0;

  // Kernel-side counters by name (BPF failures, drops, verdicts).
  [[nodiscard]] virtual std::vector<std::pair<std::string, uint64_t>> counters() const = 0;
  // Whether only the daemon can make a parked process run: the BPF LSM refuses SIGCONT and
  // ptrace to it, or the escape guard kills it when anyone else wakes it.
  [[nodiscard]] virtual bool park_escape_proof() const { return true; }
  // "lsm", "tracepoint (why not the LSM)", "none (evaluation only)"
  [[nodiscard]] virtual std::string enforcement() const = 0;
};

}  // namespace cmdgate
