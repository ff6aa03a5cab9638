#include "probe/guard_probe.h"

#include <bpf/libbpf.h>

#include <cstring>
#include <type_traits>

#include "probe/abi_check.h"  // before the skeletons, which use the ABI's types
// clang-format off
#include "cmdgate_exec.skel.h"
#include "cmdgate_guard.skel.h"
// clang-format on
#include "probe/libbpf_error.h"
#include "probe/map_sharing.h"
#include "probe/verifier_stats.h"

namespace cmdgate::probe {
namespace {

// Each guard decides from the exec object's .bss (control block): same layout or no build.
using ExecBss = std::remove_pointer_t<decltype(cmdgate_exec::bss)>;
template <typename Skel>
constexpr bool same_bss() {
  using Bss = std::remove_pointer_t<decltype(Skel::bss)>;
  return sizeof(ExecBss) == sizeof(Bss) && offsetof(ExecBss, cg_control) == offsetof(Bss, cg_control);
}
static_assert(same_bss<cmdgate_guard>());

// The generated functions of one skeleton.
template <typename Skel>
struct Ops {
  Skel* (*open)();
  int (*load)(Skel*);
  int (*attach)(Skel*);
  void (*destroy)(Skel*);
};

template <typename Skel>
class Guard final : public GuardProbe {
 public:
  Guard(Skel* skel, Ops<Skel> ops) : skel_(skel), ops_(ops) {}
  ~Guard() override { ops_.destroy(skel_); }
  Guard(const Guard&) = delete;
  Guard& operator=(const Guard&) = delete;

  Status attach() override {
    if (int err = ops_.attach(skel_)) {
      return libbpf_error("attaching the escape guard", err);
    }
    return {};
  }
  std::vector<NamedLink> links() const override { return links_of(skel_->skeleton); }
  bpf_object* object() const override { return skel_->obj; }

 private:
  Skel* skel_;
  Ops<Skel> ops_;
};

template <typename Skel>
Result<std::unique_ptr<GuardProbe>> try_load(const BpfProbe& exec, pid_t daemon_tgid,
                                            uint32_t ringbuf_bytes, Ops<Skel> ops) {
  Skel* g = ops.open();
  if (g == nullptr) {
    return Error{"cannot open the guard object"};
  }
  auto guard = std::make_unique<Guard<Skel>>(g, ops);
  g->rodata->cg_daemon_tgid = static_cast<__u32>(daemon_tgid);
  if (int err = bpf_map__set_max_entries(g->maps.events, ringbuf_bytes)) {
    return libbpf_error("sizing the guard's ring buffer", err);
  }
  if (auto s = share_maps(exec, g->obj, g->maps.bss); !s) {
    return s.error();
  }
  const VerifierStats stats(g->obj);
  if (int err = ops.load(g)) {
    return libbpf_error("loading", err);
  }
  stats.log();
  if (g->rodata->cg_abi_version != CG_ABI_VERSION) {
    return Error{"ABI mismatch"};
  }
  return std::unique_ptr<GuardProbe>(std::move(guard));
}

}  // namespace

std::unique_ptr<GuardProbe> GuardProbe::load(const BpfProbe& exec, pid_t daemon_tgid,
                                             uint32_t ringbuf_bytes, std::string* status) {
  auto guard = try_load<cmdgate_guard>(
      exec, daemon_tgid, ringbuf_bytes,
      {cmdgate_guard__open, cmdgate_guard__load, cmdgate_guard__attach, cmdgate_guard__destroy});
  if (!guard) {
    *status = fmt::format("not loaded ({})", guard.error().message);
    return nullptr;
  }
  *status = "kernel kills escapes";
  return std::move(*guard);
}

}  // namespace cmdgate::probe
