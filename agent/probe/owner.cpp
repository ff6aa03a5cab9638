#include "probe/owner.h"

#include <bpf/bpf.h>

#include <cstddef>
#include <fstream>
#include <type_traits>
#include <vector>

#include "probe/abi_check.h"  // before the skeleton, which uses the ABI's types
// clang-format off
#include "cmdgate_exec.skel.h"
// clang-format on
#include "common/fd.h"

namespace cmdgate::probe {
namespace {
using ExecBss = std::remove_pointer_t<decltype(cmdgate_exec::bss)>;
}  // namespace

std::optional<Owner> read_owner(const std::string& bss_path) {
  Fd fd(bpf_obj_get(bss_path.c_str()));
  if (!fd) {
    return std::nullopt;
  }
  ExecBss bss{};
  const uint32_t zero = 0;
  if (bpf_map_lookup_elem(fd.get(), &zero, &bss) != 0) {
    return std::nullopt;
  }
  const cg_control& c = bss.cg_control;
  return Owner{c.owner_tgid, c.daemon_alive != 0,
               bss.cg_policy_meta[c.active_slot % CG_POLICY_SLOTS].generation};
}

bool owner_running(const Owner& owner) {
  if (!owner.alive || owner.tgid == 0) {
    return false;
  }
  std::ifstream comm("/proc/" + std::to_string(owner.tgid) + "/comm");
  std::string name;
  return std::getline(comm, name) && name == "cmdgated";
}

}  // namespace cmdgate::probe
