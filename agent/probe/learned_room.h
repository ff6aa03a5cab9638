#pragma once
// Room in the learned-verdict map (bpf/lib/policy.bpf.h). The map is a hash allocated per entry,
// not a preallocated LRU, so creating it costs a cold start almost nothing; the kernel never
// evicts from it, the daemon does when an update finds it full.

#include <cstddef>
#include <cstdint>

#include "common/result.h"

namespace cmdgate::probe {

// Deletes every entry of a generation other than `generation` (the kernel ignores those) and,
// if that freed fewer than `at_least`, arbitrary entries of the current one up to that count.
// Returns how many entries were deleted.
[[nodiscard]] Result<size_t> make_room_to_learn(int learned_fd, uint32_t generation,
                                                size_t at_least);

}  // namespace cmdgate::probe
