#pragma once
// cmdgated: wires the kernel probe, the policy store and the exec pipeline, and runs the event
// loop (ring buffer, signals, timer) until SIGTERM or SIGINT.

#include <memory>

#include "common/result.h"
#include "daemon_config.h"

namespace cmdgate {

class Daemon {
 public:
  // Loads the rules, loads and attaches BPF, publishes the policy. Fails with a message that
  // names the cause (bad rules, BPF not loadable).
  [[nodiscard]] static Result<std::unique_ptr<Daemon>> create(const DaemonConfig& config);
  virtual ~Daemon() = default;
  // Returns the process exit status.
  virtual int run() = 0;
};

}  // namespace cmdgate
