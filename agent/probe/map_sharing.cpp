#include "probe/map_sharing.h"

#include <bpf/libbpf.h>

#include "probe/bpf_probe.h"
#include "probe/libbpf_error.h"

namespace cmdgate::probe {

Status share_maps(const BpfProbe& exec, bpf_object* obj, const bpf_map* own_bss) {
  bpf_map* map = nullptr;
  bpf_object__for_each_map(map, obj) {
    const bpf_map* source = nullptr;
    if (map == own_bss) {
      source = exec.bss_map();
    } else if (bpf_map__is_internal(map)) {
      continue;
    } else {
      source = bpf_object__find_map_by_name(exec.object(), bpf_map__name(map));
    }
    if (source == nullptr) {
      return Error::format("map '{}' has no counterpart in the exec object", bpf_map__name(map));
    }
    if (int err = bpf_map__reuse_fd(map, bpf_map__fd(source))) {
      return libbpf_error(fmt::format("sharing map '{}'", bpf_map__name(map)), err);
    }
  }
  return {};
}

}  // namespace cmdgate::probe
