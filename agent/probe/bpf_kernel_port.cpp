#include "probe/bpf_kernel_port.h"

#include <bpf/bpf.h>
#include <spdlog/spdlog.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <climits>

#include "kernel/clock.h"
#include "memory/huge_page_heap.h"
#include "probe/counters.h"
#include "probe/lsm_support.h"

namespace cmdgate::probe {
namespace {

// What loading the objects allocates at its peak (several parses of the kernel's BTF), and more.
constexpr size_t kLoadingAllocates = 64 << 20;

}  // namespace

Result<std::unique_ptr<BpfKernelPort>> BpfKernelPort::load(const KernelOptions& options) {
  const HugePageHeap heap(kLoadingAllocates);
  auto probe = BpfProbe::load(options.probe);
  if (!probe) {
    return probe.error();
  }
  std::unique_ptr<BpfKernelPort> port(new BpfKernelPort());
  port->probe_ = std::move(*probe);
  port->maps_ = std::make_unique<PolicyMaps>(*port->probe_);
  port->parked_ = std::make_unique<ParkedMap>(port->probe_->parked_fd());
  port->control_ = std::make_unique<PidfdProcessControl>(*port->parked_);
  port->learner_.maps = port->maps_.get();
  if (const auto& predecessor = port->probe_->adopted()) {
    if (auto s = port->maps_->adopt(); !s) {
      return s.error();
    }
    spdlog::info("adopted the state pinned at {}: generation {} of daemon {} stays in force "
                 "until this daemon publishes its policy",
                 port->probe_->pins().dir(), predecessor->generation, predecessor->tgid);
  }
  port->maps_->set_delivery_failure(options.delivery_failure);
  port->maps_->set_stale_after(options.stale_after_ns);
  if (auto s = port->load_lsm(options); !s) {
    return s.error();
  }
  return port;
}

Status BpfKernelPort::load_lsm(const KernelOptions& options) {
  mode_ = options.enforcement;
  if (mode_ == EnforcementMode::kTracepoint) {
    fall_back("configured");
    return {};
  }
  Status active = bpf_lsm_active();
  if (active && mode_ == EnforcementMode::kAuto) {
    // With "lsm" a refusal is a start-up error: that one comes from the real hook below.
    active = lsm_programs_not_refused_outright();
  }
  if (active) {
    auto lsm = LsmProbe::load(*probe_, options.probe.daemon_tgid);
    if (lsm) {
      lsm_ = std::move(*lsm);
      for (const auto& hook : lsm_->missing()) {
        spdlog::warn("BPF LSM: this kernel has no {} hook; that guard is off", hook);
      }
      return {};
    }
    active = lsm.error();
  }
  if (mode_ == EnforcementMode::kLsm) {
    return active.error().context("enforcement = lsm, but the BPF LSM is unavailable");
  }
  fall_back(active.error().message);
  return {};
}

void BpfKernelPort::fall_back(std::string reason) {
  lsm_.reset();
  fallback_ = std::move(reason);
  spdlog::info("BPF LSM not used ({}): denied execs are killed at the exec tracepoint", fallback_);
}

std::string BpfKernelPort::enforcement() const {
  return fmt::format("{}; escape guard: {}; parking: {}",
                     lsm_ ? std::string("lsm") : fmt::format("tracepoint ({})", fallback_),
                     probe_->guard_status(),
                     park_escape_proof() ? "escape-proof" : "NOT escape-proof");
}

bool BpfKernelPort::park_escape_proof() const {
  if (probe_->has_guard()) {
    return true;
  }
  if (!lsm_) {
    return false;
  }
  const auto& hooks = lsm_->hooks();
  return std::find(hooks.begin(), hooks.end(), "task_kill") != hooks.end() &&
         std::find(hooks.begin(), hooks.end(), "ptrace_access_check") != hooks.end();
}

Status BpfKernelPort::publish(const rules::KernelPolicy& policy, uint32_t generation) {
  auto stats = maps_->publish(policy, generation);
  if (!stats) {
    return stats.error().context("publishing the policy to the kernel");
  }
  spdlog::info(
      "policy generation {} in the kernel: default {}, {} inode and {} path entries, memfd {}, "
      "deleted {}, scripts {}, loaders {}; for agents' processes default {}; {} agent entries",
      generation, rules::to_string(policy.default_verdict), stats->inodes, stats->paths,
      rules::to_string(policy.memfd_verdict), rules::to_string(policy.deleted_verdict),
      rules::to_string(policy.script_verdict), rules::to_string(policy.loader_verdict),
      rules::to_string(policy.agent_default_verdict), stats->agents);
  return {};
}

Status BpfKernelPort::start(RecordHandler on_record) {
  auto ring = RingReader::create(probe_->events_fd(), std::move(on_record));
  if (!ring) {
    return ring.error();
  }
  ring_ = std::move(*ring);
  maps_->set_enabled(true);
  if (auto s = probe_->attach(); !s) {
    return s;
  }
  if (lsm_) {
    if (auto s = lsm_->attach(); !s) {
      if (mode_ == EnforcementMode::kLsm) {
        return s.error().context("enforcement = lsm");
      }
      fall_back(s.error().message);
    } else {
      spdlog::info("BPF LSM hooks attached: {}", fmt::join(lsm_->hooks(), ", "));
    }
  }
  return take_over();
}

Status BpfKernelPort::take_over() {
  note_daemon_exe();
  // Owner first: until alive is set, this daemon's programs treat it as gone (delivery_failure),
  // which fails closed; the other order would briefly trust a dead predecessor's tgid.
  maps_->take_ownership(static_cast<uint32_t>(::getpid()));
  maps_->set_daemon_alive(true);
  const PinDir& pins = probe_->pins();
  if (!pins.enabled()) {
    return {};
  }
  std::vector<NamedLink> links = probe_->links();
  if (lsm_) {
    for (NamedLink& l : lsm_->links()) {
      links.push_back(std::move(l));
    }
  }
  std::vector<std::string> names;
  for (const NamedLink& l : links) {
    if (auto s = pins.replace_link(l.link, l.program); !s) {
      return s;
    }
    names.push_back(l.program);
  }
  pins.remove_other_links(names);
  for (const std::string& path : pins.foreign_state()) {
    size_t adopted = 0;
    for (uint32_t tgid : sweep_foreign(path)) {
      adopted += parked_->adopt(tgid, SystemClock().monotonic_ns()) ? 1 : 0;
    }
    spdlog::info("retired {} (another version's state); took over {} parked process(es)", path,
                 adopted);
  }
  return {};
}

void BpfKernelPort::note_daemon_exe() {
  struct stat st {};
  if (::stat("/proc/self/exe", &st) == 0) {
    maps_->set_daemon_exe(0, {st.st_dev, st.st_ino});
  }
  char path[PATH_MAX];
  const ssize_t n = ::readlink("/proc/self/exe", path, sizeof(path) - 1);
  if (n > 0) {
    exe_path_.assign(path, static_cast<size_t>(n));
  }
  note_installed_exe();
}

void BpfKernelPort::note_installed_exe() {
  struct stat st {};
  if (exe_path_.empty() || ::stat(exe_path_.c_str(), &st) != 0 || !S_ISREG(st.st_mode) ||
      st.st_uid != 0 || (st.st_mode & (S_IWGRP | S_IWOTH)) != 0) {
    return;
  }
  maps_->set_daemon_exe(1, {st.st_dev, st.st_ino});
}

void BpfKernelPort::leaving() {
  note_installed_exe();
  maps_->set_daemon_alive(false);
  if (!probe_->pins().enabled()) {
    maps_->set_enabled(false);  // nothing outlives this daemon: stop parking what none will decide
  }
}

uint32_t BpfKernelPort::adopted_generation() const {
  const auto& predecessor = probe_->adopted();
  return predecessor ? predecessor->generation : 0;
}

int BpfKernelPort::record_fd() const { return ring_ ? ring_->epoll_fd() : -1; }

void BpfKernelPort::drain() {
  if (!ring_) {
    return;
  }
  if (auto n = ring_->drain(); !n) {
    spdlog::error("{}", n.error().message);
  }
}

void BpfKernelPort::heartbeat(uint64_t monotonic_ns) {
  maps_->heartbeat(monotonic_ns);
  if (++beats_ % 20 == 0) {
    note_installed_exe();  // an upgrade may replace it, and this daemon may crash before it stops
  }
}

std::optional<Ancestry> BpfKernelPort::ancestry(int pidfd) const {
  // Task storage is looked up from user space by a pidfd.
  cg_lineage l{};
  if (bpf_map_lookup_elem(probe_->lineage_fd(), &pidfd, &l) != 0) {
    return std::nullopt;
  }
  Ancestry a;
  for (uint32_t i = 0; i < l.depth && i < CG_LINEAGE_DEPTH; ++i) {
    a.tgids.push_back(l.ancestors[i].tgid);
  }
  a.truncated = a.tgids.size() == CG_LINEAGE_DEPTH && a.tgids.back() > 1;
  static_assert(CG_BLOOM_WORDS == std::tuple_size_v<decltype(a.bloom)>);
  std::copy(std::begin(l.bloom), std::end(l.bloom), a.bloom.begin());
  cg_label label{};
  if (bpf_map_lookup_elem(probe_->agent_label_fd(), &pidfd, &label) == 0 &&
      (label.flags & CG_LABEL_UNKNOWN) == 0) {
    a.agents = label.agents;
  }
  return a;
}

std::vector<std::pair<std::string, uint64_t>> BpfKernelPort::counters() const {
  std::vector<std::pair<std::string, uint64_t>> out;
  auto c = read_counters(probe_->counters_fd());
  if (!c) {
    return out;
  }
  for (int i = 0; i < CG_CTR_MAX; ++i) {
    out.emplace_back(counter_name(static_cast<cg_counter>(i)), (*c)[static_cast<size_t>(i)]);
  }
  return out;
}

void BpfKernelPort::MapLearner::learn(const rules::FileId& file, int64_t ctime_sec,
                                      uint32_t ctime_nsec, rules::InodeVerdict verdict,
                                      uint32_t generation) {
  if (auto s = maps->learn(file, ctime_sec, ctime_nsec, verdict, generation); !s) {
    spdlog::debug("{}", s.error().message);
  }
}

}  // namespace cmdgate::probe
