#pragma once
// Which daemon owns the pinned state, read from the pinned .bss, and whether it still runs.

#include <cstdint>
#include <optional>
#include <string>

namespace cmdgate::probe {

struct Owner {
  uint32_t tgid = 0;
  bool alive = false;  // the kernel has not seen it exit
  uint32_t generation = 0;  // of the policy in force
};

// nullopt when nothing is pinned at bss_path.
[[nodiscard]] std::optional<Owner> read_owner(const std::string& bss_path);
// A live cmdgated, not a process that inherited a dead one's pid.
[[nodiscard]] bool owner_running(const Owner& owner);

}  // namespace cmdgate::probe
