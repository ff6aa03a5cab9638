#pragma once
// The escape guard of the tracepoint path (bpf/progs/guard.bpf.c). It needs the
// bpf_send_signal_task kfunc (Linux 6.13); without it there is none, and the daemon says so.

#include <sys/types.h>

#include <memory>
#include <string>
#include <vector>

#include "common/result.h"
#include "probe/bpf_probe.h"

struct bpf_object;

namespace cmdgate::probe {

class GuardProbe {
 public:
  // The guard shares the exec object's maps. status says whether it loaded, and why not.
  [[nodiscard]] static std::unique_ptr<GuardProbe> load(const BpfProbe& exec, pid_t daemon_tgid,
                                                        uint32_t ringbuf_bytes,
                                                        std::string* status);
  virtual ~GuardProbe() = default;
  [[nodiscard]] virtual Status attach() = 0;
  [[nodiscard]] virtual std::vector<NamedLink> links() const = 0;
  [[nodiscard]] virtual bpf_object* object() const = 0;
};

}  // namespace cmdgate::probe
