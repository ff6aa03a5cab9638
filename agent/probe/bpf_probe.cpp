#include "probe/bpf_probe.h"

#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <string>

#include "cmdgate_exec.skel.h"
#include "cmdgate_guard.skel.h"
#include "common/errno_error.h"

namespace cmdgate::probe {
namespace {

bool is_power_of_two(uint32_t v) { return v != 0 && (v & (v - 1)) == 0; }

Error libbpf_error(std::string_view what, int err) {
  return Error::format("{}: {}", what, std::strerror(err < 0 ? -err : err));
}

}  // namespace

Result<std::unique_ptr<BpfProbe>> BpfProbe::load(const ProbeOptions& options) {
  const auto page = static_cast<uint32_t>(sysconf(_SC_PAGESIZE));
  if (!is_power_of_two(options.ringbuf_bytes) || options.ringbuf_bytes < page) {
    return Error::format("ring buffer size {} must be a power of two of at least {} bytes",
                         options.ringbuf_bytes, page);
  }

  std::unique_ptr<BpfProbe> probe(new BpfProbe());
  probe->skel_ = cmdgate_exec__open();
  if (probe->skel_ == nullptr) {
    return errno_error("opening the BPF object");
  }
  cmdgate_exec* skel = probe->skel_;
  skel->rodata->cg_daemon_tgid = static_cast<__u32>(options.daemon_tgid);
  if (int err = bpf_map__set_max_entries(skel->maps.events, options.ringbuf_bytes)) {
    return libbpf_error("sizing the ring buffer", err);
  }
  probe->ringbuf_bytes_ = options.ringbuf_bytes;

  if (!options.pin_dir.empty()) {
    if (::mkdir(options.pin_dir.c_str(), 0700) != 0 && errno != EEXIST) {
      return errno_error("creating " + options.pin_dir);
    }
    const std::string pin = options.pin_dir + "/parked";
    if (int err = bpf_map__set_pin_path(skel->maps.parked, pin.c_str())) {
      return libbpf_error("setting the parked map's pin path", err);
    }
  }

  if (int err = cmdgate_exec__load(skel)) {
    return libbpf_error("loading the BPF programs (see the verifier log above)", err);
  }
  if (probe->abi_version() != CG_ABI_VERSION) {
    return Error::format("BPF object has ABI version {}, this daemon speaks {}",
                         probe->abi_version(), CG_ABI_VERSION);
  }
  probe->load_guard(options.daemon_tgid);
  return probe;
}

void BpfProbe::load_guard(pid_t daemon_tgid) {
  cmdgate_guard* g = cmdgate_guard__open();
  if (g == nullptr) {
    guard_status_ = "cannot open the guard object";
    return;
  }
  g->rodata->cg_daemon_tgid = static_cast<__u32>(daemon_tgid);
  // The guard shares the exec object's maps: the same parked set, ring buffer and counters.
  int err = bpf_map__reuse_fd(g->maps.parked, parked_fd());
  err = err ? err : bpf_map__reuse_fd(g->maps.events, events_fd());
  err = err ? err : bpf_map__reuse_fd(g->maps.counters, counters_fd());
  err = err ? err : bpf_map__set_max_entries(g->maps.events, ringbuf_bytes_);
  err = err ? err : cmdgate_guard__load(g);
  if (err != 0) {
    guard_status_ = fmt::format("not loaded ({}): escapes are caught from user space only",
                                std::strerror(err < 0 ? -err : err));
    cmdgate_guard__destroy(g);
    return;
  }
  if (g->rodata->cg_abi_version != CG_ABI_VERSION) {
    guard_status_ = "ABI mismatch: not loaded";
    cmdgate_guard__destroy(g);
    return;
  }
  guard_ = g;
  guard_status_ = "kernel kills escapes";
}

BpfProbe::~BpfProbe() {
  if (guard_ != nullptr) {
    cmdgate_guard__destroy(guard_);
  }
  if (skel_ != nullptr) {
    cmdgate_exec__destroy(skel_);
  }
}

Status BpfProbe::attach() {
  if (int err = cmdgate_exec__attach(skel_)) {
    return libbpf_error("attaching the exec tracepoints", err);
  }
  if (guard_ != nullptr) {
    if (int err = cmdgate_guard__attach(guard_)) {
      return libbpf_error("attaching the escape guard", err);
    }
  }
  return {};
}

int BpfProbe::events_fd() const { return bpf_map__fd(skel_->maps.events); }
int BpfProbe::counters_fd() const { return bpf_map__fd(skel_->maps.counters); }
int BpfProbe::parked_fd() const { return bpf_map__fd(skel_->maps.parked); }
int BpfProbe::lineage_fd() const { return bpf_map__fd(skel_->maps.lineage); }
int BpfProbe::rule_inodes_fd() const { return bpf_map__fd(skel_->maps.rule_inodes); }
int BpfProbe::learned_fd() const { return bpf_map__fd(skel_->maps.learned); }
int BpfProbe::path_trie_fd() const { return bpf_map__fd(skel_->maps.path_trie); }
int BpfProbe::rcu_barrier_fd() const { return bpf_map__fd(skel_->maps.rcu_barrier); }
int BpfProbe::barrier_inner_fd() const { return bpf_map__fd(skel_->maps.barrier_inner); }

cg_control* BpfProbe::control() const { return &skel_->bss->cg_control; }
cg_policy_meta* BpfProbe::policy_meta(uint32_t slot) const {
  return &skel_->bss->cg_policy_meta[slot % CG_POLICY_SLOTS];
}

uint32_t BpfProbe::abi_version() const { return skel_->rodata->cg_abi_version; }

std::vector<ProgramStats> BpfProbe::program_stats() const {
  std::vector<ProgramStats> out;
  bpf_program* prog = nullptr;
  for (bpf_object* obj : {skel_->obj, guard_ != nullptr ? guard_->obj : nullptr}) {
    if (obj == nullptr) {
      continue;
    }
    bpf_object__for_each_program(prog, obj) {
      bpf_prog_info info{};
      __u32 len = sizeof(info);
      if (bpf_obj_get_info_by_fd(bpf_program__fd(prog), &info, &len) != 0) {
        continue;
      }
      out.push_back({bpf_program__name(prog), info.run_time_ns, info.run_cnt});
    }
  }
  return out;
}

}  // namespace cmdgate::probe
