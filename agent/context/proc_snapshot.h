#pragma once
// An ExecEvent rebuilt from /proc for a parked process whose record never arrived (ring buffer
// full under the hold policy, or a daemon restart). The process is stopped, so what /proc shows
// is what it was exec'd with.

#include <cstdint>

#include "common/result.h"
#include "kernel/proc_fs.h"
#include "pipeline/records.h"

namespace cmdgate {

[[nodiscard]] Result<ExecEvent> snapshot_from_proc(const ProcFs& proc, uint32_t tgid,
                                                   uint64_t exec_id, uint64_t parked_ns);

}  // namespace cmdgate
