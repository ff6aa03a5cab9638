#include "probe/bpf_probe.h"

#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <string>

#include <spdlog/spdlog.h>

#include <type_traits>

#include "cmdgate_exec.skel.h"
#include "common/errno_error.h"
#include "common/fd.h"
#include "probe/libbpf_error.h"
#include "probe/guard_probe.h"
#include "probe/map_sharing.h"
#include "probe/verifier_stats.h"

namespace cmdgate::probe {
namespace {

bool is_power_of_two(uint32_t v) { return v != 0 && (v & (v - 1)) == 0; }


std::optional<uint32_t> pinned_max_entries(const std::string& path) {
  Fd fd(bpf_obj_get(path.c_str()));
  bpf_map_info info{};
  __u32 len = sizeof(info);
  if (!fd || bpf_obj_get_info_by_fd(fd.get(), &info, &len) != 0) {
    return std::nullopt;
  }
  return info.max_entries;
}

}  // namespace

std::vector<NamedLink> links_of(const bpf_object_skeleton* skeleton) {
  std::vector<NamedLink> out;
  for (int i = 0; skeleton != nullptr && i < skeleton->prog_cnt; ++i) {
    const bpf_prog_skeleton& p = skeleton->progs[i];
    if (p.link != nullptr && *p.link != nullptr) {
      out.push_back({p.name, *p.link});
    }
  }
  return out;
}

Result<std::unique_ptr<BpfProbe>> BpfProbe::load(const ProbeOptions& options) {
  const auto page = static_cast<uint32_t>(sysconf(_SC_PAGESIZE));
  if (!is_power_of_two(options.ringbuf_bytes) || options.ringbuf_bytes < page) {
    return Error::format("ring buffer size {} must be a power of two of at least {} bytes",
                         options.ringbuf_bytes, page);
  }

  std::unique_ptr<BpfProbe> probe(new BpfProbe(PinDir(options.pin_dir)));
  probe->skel_ = cmdgate_exec__open();
  if (probe->skel_ == nullptr) {
    return errno_error("opening the BPF object");
  }
  cmdgate_exec* skel = probe->skel_;
  skel->rodata->cg_daemon_tgid = static_cast<__u32>(options.daemon_tgid);
  uint32_t ringbuf_bytes = options.ringbuf_bytes;
  if (probe->pins_.enabled()) {
    if (auto s = probe->pin_maps(&ringbuf_bytes); !s) {
      return s.error();
    }
  }
  if (int err = bpf_map__set_max_entries(skel->maps.events, ringbuf_bytes)) {
    return libbpf_error("sizing the ring buffer", err);
  }
  probe->ringbuf_bytes_ = ringbuf_bytes;

  const VerifierStats stats(skel->obj);
  if (int err = cmdgate_exec__load(skel)) {
    return libbpf_error(probe->adopted_
                            ? fmt::format("loading the BPF programs onto the state pinned at {} "
                                          "(see above; `cmdgated --uninstall` removes it)",
                                          probe->pins_.dir())
                            : std::string("loading the BPF programs (see the verifier log above)"),
                        err);
  }
  stats.log();
  if (probe->abi_version() != CG_ABI_VERSION) {
    return Error::format("BPF object has ABI version {}, this daemon speaks {}",
                         probe->abi_version(), CG_ABI_VERSION);
  }
  // The escape guard needs the bpf_send_signal_task kfunc (6.13+): optional.
  probe->guard_ = GuardProbe::load(*probe, options.daemon_tgid, probe->ringbuf_bytes_,
                                   &probe->guard_status_);
  return probe;
}

Status BpfProbe::pin_maps(uint32_t* ringbuf_bytes) {
  if (auto s = pins_.create(); !s) {
    return s;
  }
  adopted_ = read_owner(pins_.map("bss"));
  if (adopted_ && owner_running(*adopted_)) {
    return Error::format("cmdgated (pid {}) already enforces from {}", adopted_->tgid,
                         pins_.dir());
  }
  // The ring keeps the size it was created with: records a predecessor left in it are read by
  // this daemon.
  if (auto pinned = pinned_max_entries(pins_.map("events")); pinned && *pinned != *ringbuf_bytes) {
    spdlog::warn("the pinned ring buffer has {} bytes, not the configured {}: keeping it until "
                 "`cmdgated --uninstall`",
                 *pinned, *ringbuf_bytes);
    *ringbuf_bytes = *pinned;
  }
  // Policy, control block, ring, counters, parked processes, lineage and agent labels outlive
  // the daemon;
  // scratch buffers and the RCU barrier are per object.
  const cmdgate_exec* skel = skel_;
  const std::pair<bpf_map*, const char*> shared[] = {
      {skel->maps.bss, "bss"},         {skel->maps.events, "events"},
      {skel->maps.counters, "counters"}, {skel->maps.parked, "parked"},
      {skel->maps.lineage, "lineage"}, {skel->maps.rule_inodes, "rule_inodes"},
      {skel->maps.learned, "learned"}, {skel->maps.path_trie, "path_trie"},
      {skel->maps.agent_label, "agent_label"}, {skel->maps.agent_files, "agent_files"},
      {skel->maps.agent_dirs, "agent_dirs"}, {skel->maps.agent_names, "agent_names"}};
  for (const auto& [map, name] : shared) {
    if (int err = bpf_map__set_pin_path(map, pins_.map(name).c_str())) {
      return libbpf_error(fmt::format("setting the pin path of map '{}'", name), err);
    }
  }
  return {};
}

BpfProbe::BpfProbe(PinDir pins) : pins_(std::move(pins)) {}

BpfProbe::~BpfProbe() {
  guard_.reset();
  if (skel_ != nullptr) {
    cmdgate_exec__destroy(skel_);
  }
}

Status BpfProbe::attach() {
  if (int err = cmdgate_exec__attach(skel_)) {
    return libbpf_error("attaching the exec tracepoints", err);
  }
  if (guard_ != nullptr) {
    if (auto s = guard_->attach(); !s) {
      return s;
    }
  }
  return {};
}

std::vector<NamedLink> BpfProbe::links() const {
  std::vector<NamedLink> out = links_of(skel_->skeleton);
  if (guard_ != nullptr) {
    for (NamedLink& l : guard_->links()) {
      out.push_back(std::move(l));
    }
  }
  return out;
}

int BpfProbe::events_fd() const { return bpf_map__fd(skel_->maps.events); }
int BpfProbe::counters_fd() const { return bpf_map__fd(skel_->maps.counters); }
int BpfProbe::parked_fd() const { return bpf_map__fd(skel_->maps.parked); }
int BpfProbe::lineage_fd() const { return bpf_map__fd(skel_->maps.lineage); }
int BpfProbe::rule_inodes_fd() const { return bpf_map__fd(skel_->maps.rule_inodes); }
int BpfProbe::learned_fd() const { return bpf_map__fd(skel_->maps.learned); }
uint32_t BpfProbe::learned_capacity() const { return bpf_map__max_entries(skel_->maps.learned); }
int BpfProbe::path_trie_fd() const { return bpf_map__fd(skel_->maps.path_trie); }
int BpfProbe::agent_label_fd() const { return bpf_map__fd(skel_->maps.agent_label); }
int BpfProbe::agent_files_fd() const { return bpf_map__fd(skel_->maps.agent_files); }
int BpfProbe::agent_dirs_fd() const { return bpf_map__fd(skel_->maps.agent_dirs); }
int BpfProbe::agent_names_fd() const { return bpf_map__fd(skel_->maps.agent_names); }
int BpfProbe::rcu_barrier_fd() const { return bpf_map__fd(skel_->maps.rcu_barrier); }
int BpfProbe::barrier_inner_fd() const { return bpf_map__fd(skel_->maps.barrier_inner); }

cg_control* BpfProbe::control() const { return &skel_->bss->cg_control; }
cg_policy_meta* BpfProbe::policy_meta(uint32_t slot) const {
  return &skel_->bss->cg_policy_meta[slot % CG_POLICY_SLOTS];
}

const bpf_object* BpfProbe::object() const { return skel_->obj; }
const bpf_map* BpfProbe::bss_map() const { return skel_->maps.bss; }

uint32_t BpfProbe::abi_version() const { return skel_->rodata->cg_abi_version; }

}  // namespace cmdgate::probe
