#pragma once
// The guard and LSM objects decide from the exec object's state: every map of theirs becomes the
// exec object's map of the same name, .bss included (control block, per-slot metadata). Only
// .rodata (the object's own constants) stays its own.

#include "common/result.h"

struct bpf_map;
struct bpf_object;

namespace cmdgate::probe {

class BpfProbe;

// Call between open and load.
[[nodiscard]] Status share_maps(const BpfProbe& exec, bpf_object* obj, const bpf_map* own_bss);

}  // namespace cmdgate::probe
