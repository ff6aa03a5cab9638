#pragma once
// Which hook refuses a denied exec: the BPF LSM (EPERM inside execve, the caller runs on) or the
// exec tracepoint (SIGKILL after the commit, before the first instruction). Everything the LSM
// cannot see (argv, parking) stays on the tracepoint either way.

#include <cstdint>

namespace cmdgate {

enum class EnforcementMode : uint8_t {
  kAuto,        // the LSM where it is active and loads, else the tracepoint
  kLsm,         // the LSM or refuse to start
  kTracepoint,  // never the LSM
};

}  // namespace cmdgate
