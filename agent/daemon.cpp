#include "daemon.h"

#include <signal.h>
#include <spdlog/spdlog.h>
#include <sys/epoll.h>
#include <sys/mount.h>
#include <sys/signalfd.h>
#include <sys/stat.h>
#include <sys/timerfd.h>
#include <sys/vfs.h>
#include <unistd.h>

#include <linux/magic.h>

#include "common/errno_error.h"
#include "common/fd.h"
#include "context/context_builder.h"
#include "kernel/clock.h"
#include "kernel/pidfd_process_control.h"
#include "kernel/proc_fs.h"
#include "log/decision_log.h"
#include "pipeline/exec_pipeline.h"
#include "policy/policy_store.h"
#include "probe/bpf_probe.h"
#include "probe/counters.h"
#include "probe/parked_map.h"
#include "probe/policy_maps.h"
#include "probe/ring_reader.h"
#include "service/notifier.h"

namespace cmdgate {
namespace {

// bpffs must be mounted for the parked map to survive a daemon restart.
Status ensure_bpffs(const std::string& pin_dir) {
  if (pin_dir.empty()) {
    return {};
  }
  struct statfs fs {};
  if (::statfs("/sys/fs/bpf", &fs) == 0 && fs.f_type == BPF_FS_MAGIC) {
    return {};
  }
  if (::mount("bpf", "/sys/fs/bpf", "bpf", 0, nullptr) != 0) {
    return errno_error("mounting bpffs on /sys/fs/bpf");
  }
  return {};
}

class KernelLearner final : public Learner {
 public:
  explicit KernelLearner(probe::PolicyMaps& maps) : maps_(maps) {}
  void learn(const rules::FileId& file, int64_t ctime_sec, uint32_t ctime_nsec,
             rules::InodeVerdict verdict, uint32_t generation) override {
    if (auto s = maps_.learn(file, ctime_sec, ctime_nsec, verdict, generation); !s) {
      spdlog::debug("{}", s.error().message);
    }
  }

 private:
  probe::PolicyMaps& maps_;
};

class DaemonImpl final : public Daemon {
 public:
  explicit DaemonImpl(const DaemonConfig& config)
      : config_(config),
        store_(PolicySource{config.rule_paths, config.mode_override}, names_, files_),
        exe_paths_(proc_),
        contexts_(proc_, files_, exe_paths_, hasher_) {}

  Status init();
  int run() override;

 private:
  Status publish(Snapshot s);
  void reload();
  void on_tick();
  void drain();
  void log_counters();
  [[nodiscard]] std::string status_line() const;

  DaemonConfig config_;
  SystemClock clock_;
  SdNotifier notifier_;
  SystemProcFs proc_;
  rules::SystemNameResolver names_;
  rules::SystemFileResolver files_;
  PolicyStore store_;
  ExePathCache exe_paths_;
  FileHasher hasher_;
  ContextBuilder contexts_;

  std::unique_ptr<probe::BpfProbe> probe_;
  std::unique_ptr<probe::PolicyMaps> maps_;
  std::unique_ptr<probe::ParkedMap> parked_;
  std::unique_ptr<PidfdProcessControl> control_;
  std::unique_ptr<KernelLearner> learner_;
  std::unique_ptr<DecisionLog> log_;
  std::unique_ptr<ExecPipeline> pipeline_;
  std::unique_ptr<probe::RingReader> ring_;

  Fd epoll_;
  Fd signals_;
  Fd timer_;
  uint64_t ticks_ = 0;
  uint64_t reload_failures_ = 0;
  bool stopping_ = false;
};

Status DaemonImpl::init() {
  auto first = store_.build();
  if (!first) {
    return first.error().context("loading rules");
  }
  auto writer = FileLineWriter::open(config_.audit_log);
  if (!writer) {
    return writer.error();
  }
  log_ = std::make_unique<DecisionLog>(std::move(*writer));

  if (auto s = ensure_bpffs(config_.pin_dir); !s) {
    spdlog::warn("{}; parked processes will not survive a daemon restart", s.error().message);
    config_.pin_dir.clear();
  }
  probe::ProbeOptions opts;
  opts.ringbuf_bytes = config_.ringbuf_bytes;
  opts.daemon_tgid = ::getpid();
  opts.pin_dir = config_.pin_dir;
  auto probe = probe::BpfProbe::load(opts);
  if (!probe) {
    return probe.error();
  }
  probe_ = std::move(*probe);
  maps_ = std::make_unique<probe::PolicyMaps>(*probe_);
  parked_ = std::make_unique<probe::ParkedMap>(probe_->parked_fd());
  control_ = std::make_unique<PidfdProcessControl>(*parked_);
  learner_ = std::make_unique<KernelLearner>(*maps_);
  pipeline_ = std::make_unique<ExecPipeline>(
      PipelineDeps{clock_, proc_, contexts_, *control_, *parked_, *learner_, store_, *log_},
      PipelineOptions{config_.on_shutdown, std::chrono::milliseconds(1000)});

  maps_->set_delivery_failure(config_.delivery_failure);
  maps_->set_stale_after(static_cast<uint64_t>(
      std::chrono::duration_cast<std::chrono::nanoseconds>(config_.daemon_stale_after).count()));
  maps_->heartbeat(clock_.monotonic_ns());
  if (auto s = publish(std::move(*first)); !s) {
    return s;
  }

  auto ring = probe::RingReader::create(
      probe_->events_fd(), [this](std::span<const std::byte> rec) { pipeline_->on_record(rec); });
  if (!ring) {
    return ring.error();
  }
  ring_ = std::move(*ring);

  sigset_t mask;
  sigemptyset(&mask);
  sigaddset(&mask, SIGHUP);
  sigaddset(&mask, SIGTERM);
  sigaddset(&mask, SIGINT);
  if (::sigprocmask(SIG_BLOCK, &mask, nullptr) != 0) {
    return errno_error("blocking signals");
  }
  ::signal(SIGPIPE, SIG_IGN);
  signals_.reset(::signalfd(-1, &mask, SFD_CLOEXEC | SFD_NONBLOCK));
  timer_.reset(::timerfd_create(CLOCK_MONOTONIC, TFD_CLOEXEC | TFD_NONBLOCK));
  epoll_.reset(::epoll_create1(EPOLL_CLOEXEC));
  if (!signals_ || !timer_ || !epoll_) {
    return errno_error("creating the event loop");
  }
  const auto tick_ns = std::chrono::duration_cast<std::chrono::nanoseconds>(config_.tick).count();
  itimerspec its{};
  its.it_interval.tv_sec = tick_ns / 1000000000;
  its.it_interval.tv_nsec = tick_ns % 1000000000;
  its.it_value = its.it_interval;
  if (::timerfd_settime(timer_.get(), 0, &its, nullptr) != 0) {
    return errno_error("arming the tick timer");
  }
  for (int fd : {ring_->epoll_fd(), signals_.get(), timer_.get()}) {
    epoll_event ev{};
    ev.events = EPOLLIN;
    ev.data.fd = fd;
    if (::epoll_ctl(epoll_.get(), EPOLL_CTL_ADD, fd, &ev) != 0) {
      return errno_error("epoll_ctl");
    }
  }

  maps_->set_enabled(true);
  if (auto s = probe_->attach(); !s) {
    return s;
  }
  spdlog::info("enforcing: {}; enforcement: tracepoint", status_line());
  notifier_.ready(status_line());
  return {};
}

std::string DaemonImpl::status_line() const {
  const Snapshot* s = store_.current();
  return fmt::format("generation {}, {} rules, mode {}, {} parked", s->generation,
                     s->policy->rule_set().rules.size(),
                     rules::to_string(s->policy->rule_set().mode), pipeline_->pending().size());
}

Status DaemonImpl::publish(Snapshot s) {
  auto stats = maps_->publish(s.kernel, s.generation);
  if (!stats) {
    return stats.error().context("publishing the policy to the kernel");
  }
  spdlog::info(
      "policy generation {}: kernel default {}, {} inode and {} path entries, memfd {}, deleted "
      "{}, scripts {}",
      s.generation, rules::to_string(s.kernel.default_verdict), stats->inodes, stats->paths,
      rules::to_string(s.kernel.memfd_verdict), rules::to_string(s.kernel.deleted_verdict),
      rules::to_string(s.kernel.script_verdict));
  store_.commit(std::move(s));
  return {};
}

void DaemonImpl::reload() {
  notifier_.reloading();
  auto next = store_.build();
  Status published = next ? publish(std::move(*next)) : Status(next.error());
  if (!published) {
    ++reload_failures_;
    spdlog::error("reload failed, keeping generation {}: {}", store_.current()->generation,
                  published.error().message);
    notifier_.ready(fmt::format("reload failed, kept {}: {}", status_line(),
                                published.error().message));
    return;
  }
  notifier_.ready(status_line());
}

void DaemonImpl::drain() {
  if (auto n = ring_->drain(); !n) {
    spdlog::error("{}", n.error().message);
  }
}

void DaemonImpl::on_tick() {
  uint64_t expirations = 0;
  [[maybe_unused]] ssize_t r = ::read(timer_.get(), &expirations, sizeof(expirations));
  maps_->heartbeat(clock_.monotonic_ns());
  drain();
  pipeline_->expire();
  if (++ticks_ % 20 == 0) {
    pipeline_->recover_orphans();
  }
}

void DaemonImpl::log_counters() {
  auto c = probe::read_counters(probe_->counters_fd());
  if (!c) {
    return;
  }
  std::string line;
  for (int i = 0; i < CG_CTR_MAX; ++i) {
    if ((*c)[i] != 0) {
      line += fmt::format(" {}={}", probe::counter_name(static_cast<cg_counter>(i)), (*c)[i]);
    }
  }
  const PipelineStats& p = pipeline_->stats();
  spdlog::info("kernel counters:{}; daemon: decisions={} resumed={} killed={} parked={} "
               "timed_out={} gone={} recovered={} learned={} decode_errors={}",
               line, p.decisions, p.resumed, p.killed, p.parked, p.timed_out, p.gone, p.recovered,
               p.learned, p.decode_errors);
}

int DaemonImpl::run() {
  epoll_event events[8];
  while (!stopping_) {
    const int n = ::epoll_wait(epoll_.get(), events, 8, -1);
    if (n < 0) {
      if (errno == EINTR) {
        continue;
      }
      spdlog::critical("epoll_wait: {}", std::strerror(errno));
      break;
    }
    for (int i = 0; i < n; ++i) {
      const int fd = events[i].data.fd;
      if (fd == ring_->epoll_fd()) {
        drain();
      } else if (fd == timer_.get()) {
        on_tick();
      } else if (fd == signals_.get()) {
        signalfd_siginfo si{};
        while (::read(signals_.get(), &si, sizeof(si)) == sizeof(si)) {
          if (si.ssi_signo == SIGHUP) {
            spdlog::info("SIGHUP: reloading rules");
            reload();
          } else {
            spdlog::info("{}: stopping", strsignal(static_cast<int>(si.ssi_signo)));
            stopping_ = true;
          }
        }
      }
    }
  }
  notifier_.stopping();
  // Stop parking new execs, take in what is already on its way, then let go of every parked
  // process according to on_shutdown before the programs detach.
  maps_->set_enabled(false);
  drain();
  pipeline_->release_all();
  log_counters();
  log_->flush();
  ring_.reset();
  probe_.reset();
  return 0;
}

}  // namespace

Result<std::unique_ptr<Daemon>> Daemon::create(const DaemonConfig& config) {
  auto d = std::make_unique<DaemonImpl>(config);
  if (auto s = d->init(); !s) {
    return s.error();
  }
  return std::unique_ptr<Daemon>(std::move(d));
}

}  // namespace cmdgate
