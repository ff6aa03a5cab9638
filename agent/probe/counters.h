#pragma once
// The BPF programs' per-CPU counters, summed over CPUs.

#include <array>
#include <cstdint>
#include <string_view>

#include "common/result.h"
#include "probe/abi_check.h"

namespace cmdgate::probe {

using CounterValues = std::array<uint64_t, CG_CTR_MAX>;

[[nodiscard]] Result<CounterValues> read_counters(int counters_fd);
[[nodiscard]] std::string_view counter_name(cg_counter c);

}  // namespace cmdgate::probe
