#pragma once
// Is the BPF LSM active? An LSM program loads and attaches on any CONFIG_BPF_LSM kernel, but
// runs only when "bpf" is in the active LSM list (lsm= on the kernel command line, else
// CONFIG_LSM), which securityfs publishes in /sys/kernel/security/lsm.

#include <string>
#include <string_view>

#include "common/result.h"

namespace cmdgate::probe {

// True when the comma-separated LSM list names `name`.
[[nodiscard]] inline bool lsm_list_has(std::string_view list, std::string_view name) {
  for (;;) {
    const size_t comma = list.find(',');
    if (list.substr(0, comma) == name) {
      return true;
    }
    if (comma == std::string_view::npos) {
      return false;
    }
    list.remove_prefix(comma + 1);
  }
}

// OK when `bpf` is listed; otherwise an error that says why not (no securityfs, not listed).
// Mounts securityfs on <securityfs_dir> when nothing is mounted there.
[[nodiscard]] Status bpf_lsm_active(const std::string& securityfs_dir = "/sys/kernel/security");

}  // namespace cmdgate::probe
