#include "probe/bpf_kernel_port.h"

#include <bpf/bpf.h>
#include <spdlog/spdlog.h>

#include "probe/counters.h"

namespace cmdgate::probe {

Result<std::unique_ptr<BpfKernelPort>> BpfKernelPort::load(const KernelOptions& options) {
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
  port->maps_->set_delivery_failure(options.delivery_failure);
  port->maps_->set_stale_after(options.stale_after_ns);
  return port;
}

Status BpfKernelPort::publish(const rules::KernelPolicy& policy, uint32_t generation) {
  auto stats = maps_->publish(policy, generation);
  if (!stats) {
    return stats.error().context("publishing the policy to the kernel");
  }
  spdlog::info(
      "policy generation {} in the kernel: default {}, {} inode and {} path entries, memfd {}, "
      "deleted {}, scripts {}",
      generation, rules::to_string(policy.default_verdict), stats->inodes, stats->paths,
      rules::to_string(policy.memfd_verdict), rules::to_string(policy.deleted_verdict),
      rules::to_string(policy.script_verdict));
  return {};
}

Status BpfKernelPort::start(RecordHandler on_record) {
  auto ring = RingReader::create(probe_->events_fd(), std::move(on_record));
  if (!ring) {
    return ring.error();
  }
  ring_ = std::move(*ring);
  maps_->set_enabled(true);
  return probe_->attach();
}

void BpfKernelPort::stop_parking() { maps_->set_enabled(false); }

int BpfKernelPort::record_fd() const { return ring_ ? ring_->epoll_fd() : -1; }

void BpfKernelPort::drain() {
  if (!ring_) {
    return;
  }
  if (auto n = ring_->drain(); !n) {
    spdlog::error("{}", n.error().message);
  }
}

void BpfKernelPort::heartbeat(uint64_t monotonic_ns) { maps_->heartbeat(monotonic_ns); }

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
  static_assert(CG_BLOOM_WORDS == std::tuple_size_v<decltype(a.bloom)>);
  std::copy(std::begin(l.bloom), std::end(l.bloom), a.bloom.begin());
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

std::string BpfKernelPort::enforcement() const {
  return fmt::format("tracepoint; escape guard: {}", probe_->guard_status());
}

void BpfKernelPort::MapLearner::learn(const rules::FileId& file, int64_t ctime_sec,
                                      uint32_t ctime_nsec, rules::InodeVerdict verdict,
                                      uint32_t generation) {
  if (auto s = maps->learn(file, ctime_sec, ctime_nsec, verdict, generation); !s) {
    spdlog::debug("{}", s.error().message);
  }
}

}  // namespace cmdgate::probe
