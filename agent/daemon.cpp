#include "daemon.h"

#include <linux/magic.h>
#include <signal.h>
#include <spdlog/spdlog.h>
#include <sys/mount.h>
#include <sys/signalfd.h>
#include <sys/vfs.h>
#include <unistd.h>

#include <future>

#include "approval/approval_server.h"
#include "common/errno_error.h"
#include "common/fd.h"
#include "context/context_builder.h"
#include "context/hash_service.h"
#include "context/system_file_facts.h"
#include "notify/caller_channel.h"
#include "notify/journal_sink.h"
#include "notify/notify_programs.h"
#include "pipeline/observer_list.h"
#include "fleet/fleet_agent.h"
#include "kernel/clock.h"
#include "kernel/evaluation_only_port.h"
#include "kernel/proc_fs.h"
#include "log/decision_log.h"
#include "loop/event_loop.h"
#include "metrics/http_exporter.h"
#include "metrics/prometheus_text.h"
#include "pipeline/exec_pipeline.h"
#include "policy/policy_manager.h"
#include "policy/policy_store.h"
#include "probe/bpf_kernel_port.h"
#include "service/notifier.h"

namespace cmdgate {
namespace {

// Reload, stop, stop: read from a signalfd, never through handlers.
sigset_t handled_signals() {
  sigset_t mask;
  sigemptyset(&mask);
  sigaddset(&mask, SIGHUP);
  sigaddset(&mask, SIGTERM);
  sigaddset(&mask, SIGINT);
  return mask;
}

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

Result<std::unique_ptr<KernelPort>> make_kernel(DaemonConfig& config) {
  if (config.evaluation_only) {
    return std::unique_ptr<KernelPort>(std::make_unique<EvaluationOnlyPort>());
  }
  if (auto s = ensure_bpffs(config.pin_dir); !s) {
    spdlog::warn("{}; nothing is pinned: enforcement ends when this daemon exits", s.error().message);
    config.pin_dir.clear();
  }
  probe::KernelOptions opts;
  opts.probe.ringbuf_bytes = config.ringbuf_bytes;
  opts.probe.daemon_tgid = ::getpid();
  opts.probe.pin_dir = config.pin_dir;
  opts.delivery_failure = config.delivery_failure;
  opts.enforcement = config.enforcement;
  opts.stale_after_ns = static_cast<uint64_t>(
      std::chrono::duration_cast<std::chrono::nanoseconds>(config.daemon_stale_after).count());
  auto port = probe::BpfKernelPort::load(opts);
  if (!port) {
    return port.error();
  }
  return std::unique_ptr<KernelPort>(std::move(*port));
}

class DaemonImpl final : public Daemon {
 public:
  explicit DaemonImpl(const DaemonConfig& config)
      : config_(config),
        store_(PolicySource{config.rule_paths, config.mode_override, std::nullopt, std::nullopt},
               names_, files_),
        local_copy_(config.last_known_good),
        exe_paths_(proc_),
        contexts_(proc_, exe_paths_) {}

  Status init();
  int run() override;

 private:
  Status watch_signals();
  void start_watchdog();
  void on_signal();
  void on_tick();
  void log_counters();
  [[nodiscard]] std::string status_line() const;
  [[nodiscard]] protocol::Status status() const;
  void export_metrics();

  DaemonConfig config_;
  SystemClock clock_;
  SdNotifier notifier_;
  SystemProcFs proc_;
  rules::SystemNameResolver names_;
  rules::SystemFileResolver files_;
  PolicyStore store_;
  LocalLastKnownGood local_copy_;
  ExePathCache exe_paths_;
  ContextBuilder contexts_;
  ProcessPaths paths_{proc_};
  StderrChannel caller_{paths_};
  std::unique_ptr<HashService> hashes_;
  std::unique_ptr<SystemFileFacts> file_facts_;

  std::unique_ptr<EventLoop> loop_;
  std::unique_ptr<KernelPort> kernel_;
  std::unique_ptr<PolicyManager> policy_;
  std::unique_ptr<DecisionLog> log_;
  std::unique_ptr<ExecPipeline> pipeline_;
  std::unique_ptr<ApprovalServer> approvals_;
  std::unique_ptr<NotifyPrograms> notify_;
  std::unique_ptr<JournalSink> journal_;  // a thread: made once signals are blocked
  ObserverList observers_;
  DecisionMetrics metrics_;
  std::unique_ptr<HttpExporter> exporter_;
  std::unique_ptr<fleet::FleetAgent> fleet_;  // only with a [fleet] broker
  Fd signals_;
  uint64_t ticks_ = 0;
  std::chrono::steady_clock::time_point started_ = std::chrono::steady_clock::now();
};

Status DaemonImpl::init() {
  // Blocked before any thread exists (the policy compiler's), so that every thread inherits
  // the mask and these signals reach only the signalfd, never a default action.
  const sigset_t mask = handled_signals();
  if (::sigprocmask(SIG_BLOCK, &mask, nullptr) != 0) {
    return errno_error("blocking signals");
  }
  ::signal(SIGPIPE, SIG_IGN);

  auto loop = EventLoop::create();
  if (!loop) {
    return loop.error();
  }
  loop_ = std::move(*loop);
  auto writer = FileLineWriter::open(config_.audit_log, config_.audit_log_rotation);
  if (!writer) {
    return writer.error();
  }
  log_ = std::make_unique<DecisionLog>(std::move(*writer));

  // The first policy needs nothing from the kernel: compile it while the BPF objects load and
  // verify (100-200 ms on the development VM), on the other core. With a fleet the first source
  // depends on the restored bundles, which FleetAgent reads once the policy manager exists.
  std::future<PolicyManager::FirstBuild> first;
  if (!config_.fleet.enabled()) {
    first = std::async(std::launch::async, [this] { return PolicyManager::build_first(store_); });
  }
  const auto kernel_began = std::chrono::steady_clock::now();
  auto kernel = make_kernel(config_);
  if (!kernel) {
    return kernel.error();
  }
  const auto kernel_took = std::chrono::steady_clock::now() - kernel_began;
  kernel_ = std::move(*kernel);
  kernel_->heartbeat(clock_.monotonic_ns());
  store_.continue_after(kernel_->adopted_generation());

  policy_ = std::make_unique<PolicyManager>(store_, *kernel_, *loop_);
  policy_->keep_local_copy(&local_copy_);
  policy_->on_reload_begin([this] { notifier_.reloading(); });
  policy_->on_reload_end([this](const Status& s) {
    notifier_.ready(s ? status_line()
                      : fmt::format("reload failed, kept {}: {}", status_line(), s.error().message));
    if (fleet_) {
      fleet_->policy_changed();
    }
  });
  if (config_.fleet.enabled()) {
    auto fleet = fleet::FleetAgent::create(config_.fleet, *loop_, *policy_, store_);
    if (!fleet) {
      return fleet.error();
    }
    fleet_ = std::move(*fleet);
  }
  // What does not need the first policy is set up before waiting for it: with many rules its
  // compile, on the other core, can outlast the BPF load. None of it serves anyone before the
  // loop runs, after the policy is in force.
  auto hashes = HashService::start();
  if (!hashes) {
    return hashes.error();
  }
  hashes_ = std::move(*hashes);
  file_facts_ = std::make_unique<SystemFileFacts>(proc_, paths_, *hashes_);
  if (auto s = loop_->watch(hashes_->completion_fd(), [this] { file_facts_->drain(); }); !s) {
    return s;
  }
  pipeline_ = std::make_unique<ExecPipeline>(
      PipelineDeps{clock_, proc_, *file_facts_, contexts_, kernel_->control(), kernel_->parked(),
                   kernel_->learner(), store_, *log_, &caller_},
      PipelineOptions{config_.on_shutdown, std::chrono::milliseconds(1000),
                      config_.fallback_when_no_approver,
                      !kernel_->park_escape_proof() && !config_.park_where_unsafe});
  if (!kernel_->park_escape_proof()) {
    spdlog::warn("parking is not escape-proof on this kernel (no BPF LSM task_kill and "
                 "ptrace_access_check hooks, no bpf_send_signal_task for the escape guard): {}",
                 config_.park_where_unsafe
                     ? "asks are parked anyway ([approval] unsafe_park = \"park\"): their owner "
                       "can resume them"
                     : "asks are denied ([approval] unsafe_park = \"deny\")");
  }

  ApprovalOptions approval;
  approval.socket_path = config_.socket_path;
  approval.approver_group = config_.approver_group;
  approval.socket_mode = static_cast<mode_t>(config_.socket_mode);
  approval.local_rules_file = config_.local_rules_file;
  approval.authenticate = config_.authenticate;
  auto server = ApprovalServer::start(
      approval, ApprovalDeps{*loop_, proc_, *kernel_, clock_, *pipeline_, *policy_,
                             [this] { return status(); }});
  if (!server) {
    return server.error().context("approval socket");
  }
  approvals_ = std::move(*server);
  notify_ = std::make_unique<NotifyPrograms>(*loop_, config_.notify);
  journal_ = std::make_unique<JournalSink>();
  observers_.add(approvals_.get());
  observers_.add(notify_.get());
  observers_.add(journal_.get());
  pipeline_->set_observer(&observers_);
  pipeline_->set_metrics(&metrics_);
  // With a fleet, the first policy includes the last-known-good bundles.
  Status started;
  if (fleet_) {
    started = fleet_->start_policy();
  } else {
    PolicyManager::FirstBuild built = first.get();
    started = policy_->start(std::move(built.snapshot), built.took);
  }
  if (!started) {
    return started.error().context("loading rules");
  }

  if (!config_.metrics_listen.empty()) {
    auto exporter =
        HttpExporter::start(config_.metrics_listen, config_.metrics_beyond_loopback);
    if (!exporter) {
      return exporter.error();
    }
    if (config_.metrics_beyond_loopback) {
      spdlog::warn("metrics: serving {} without authentication: anyone who can reach it reads "
                   "rule ids, decision counts and the daemon's state",
                   config_.metrics_listen);
    }
    exporter_ = std::move(*exporter);
    export_metrics();
    loop_->every(std::chrono::seconds(1), [this] { export_metrics(); });
  }

  if (auto s = watch_signals(); !s) {
    return s;
  }
  loop_->every(config_.tick, [this] { on_tick(); });
  if (auto s = kernel_->start([this](std::span<const std::byte> r) { pipeline_->on_record(r); });
      !s) {
    return s;
  }
  if (kernel_->record_fd() >= 0) {
    if (auto s = loop_->watch(kernel_->record_fd(), [this] { kernel_->drain(); }); !s) {
      return s;
    }
  }
  start_watchdog();
  if (fleet_) {
    fleet_->connect();  // never waited for: enforcement must not depend on the broker
  }
  spdlog::info("enforcing: {}; enforcement: {}", status_line(), kernel_->enforcement());
  notifier_.ready(status_line());
  using std::chrono::duration_cast;
  using std::chrono::milliseconds;
  spdlog::info("started in {} ms, of which {} ms loading and verifying the BPF programs",
               duration_cast<milliseconds>(std::chrono::steady_clock::now() - started_).count(),
               duration_cast<milliseconds>(kernel_took).count());
  return {};
}

// The pets come from a timer of the same loop that drains the ring buffer and settles parked
// processes: when that loop stalls, the pets stop and the service manager restarts the daemon.
// Half the timeout leaves a whole period of slack for a busy loop.
void DaemonImpl::start_watchdog() {
  const auto timeout = notifier_.watchdog_timeout();
  if (!timeout) {
    return;
  }
  spdlog::info("watchdog: timeout {} ms, petting every {} ms", timeout->count() / 1000,
               timeout->count() / 2000);
  loop_->every(*timeout / 2, [this] { notifier_.watchdog(); });
}

Status DaemonImpl::watch_signals() {
  const sigset_t mask = handled_signals();
  signals_.reset(::signalfd(-1, &mask, SFD_CLOEXEC | SFD_NONBLOCK));
  if (!signals_) {
    return errno_error("signalfd");
  }
  return loop_->watch(signals_.get(), [this] { on_signal(); });
}

void DaemonImpl::on_signal() {
  signalfd_siginfo si{};
  while (::read(signals_.get(), &si, sizeof(si)) == sizeof(si)) {
    if (si.ssi_signo == SIGHUP) {
      policy_->reload("SIGHUP");
    } else {
      spdlog::info("{}: stopping", strsignal(static_cast<int>(si.ssi_signo)));
      loop_->stop();
    }
  }
}

std::string DaemonImpl::status_line() const {
  const Snapshot* s = store_.current();
  return fmt::format("generation {}, {} rules, mode {}, {} parked{}", s->generation,
                     s->policy->rule_set().rules.size(),
                     rules::to_string(s->policy->rule_set().mode),
                     pipeline_ ? pipeline_->pending().size() : 0,
                     policy_->local_fallback().empty()
                         ? ""
                         : ", LAST-KNOWN-GOOD local rules (the rule files do not compile)");
}

protocol::Status DaemonImpl::status() const {
  protocol::Status st;
  const Snapshot* s = store_.current();
  const auto& rs = s->policy->rule_set();
  st.set_mode(rules::to_string(rs.mode));
  st.set_rules(static_cast<uint32_t>(rs.rules.size()));
  st.set_generation(s->generation);
  st.set_enforcement(kernel_->enforcement());
  st.set_parked(static_cast<uint32_t>(pipeline_->pending().size()));
  const ReloadStats& r = policy_->stats();
  st.set_reloads(r.reloads);
  st.set_reload_failures(r.failures);
  st.set_last_reload_error(r.last_error);
  st.set_local_rules_fallback(policy_->local_fallback());
  st.set_uptime_seconds(static_cast<uint64_t>(
      std::chrono::duration_cast<std::chrono::seconds>(std::chrono::steady_clock::now() - started_)
          .count()));
  st.set_clients(static_cast<uint32_t>(approvals_ ? approvals_->clients() : 0));
  for (const auto& src : rs.sources) {
    st.add_rule_sources(src);
  }
  auto& c = *st.mutable_counters();
  for (const auto& [name, value] : kernel_->counters()) {
    c["kernel_" + name] = value;
  }
  pipeline_->stats().each([&](const char* name, uint64_t value) { c[name] = value; });
  c["caller_told"] = caller_.stats().told;
  c["caller_lost"] = caller_.stats().lost;
  c["caller_no_stderr"] = caller_.stats().no_stderr;
  if (notify_) {
    c["notify_started"] = notify_->stats().started;
    c["notify_failed"] = notify_->stats().failed;
    c["notify_timed_out"] = notify_->stats().timed_out;
    c["notify_skipped"] = notify_->stats().skipped;
  }
  if (journal_) {
    c["journal_dropped"] = journal_->dropped();
  }
  if (approvals_) {
    const ApprovalStats& a = approvals_->stats();
    c["socket_connections"] = a.connections;
    c["socket_protocol_errors"] = a.protocol_errors;
    c["socket_refused_decisions"] = a.refused_decisions;
    c["socket_events_dropped"] = a.events_dropped;
    c["socket_slow_disconnects"] = a.slow_disconnects;
    const AuthCounters auth = approvals_->auth_counters();
    c["auth_succeeded"] = auth.succeeded;
    c["auth_failed"] = auth.failed;
    c["auth_abandoned"] = auth.abandoned;
    c["auth_refused"] = auth.refused;
  }
  return st;
}

void DaemonImpl::export_metrics() {
  const protocol::Status st = status();
  MetricsView view;
  view.decisions = &metrics_;
  for (const auto& [name, value] : st.counters()) {
    view.counters.emplace_back(name, value);
  }
  std::sort(view.counters.begin(), view.counters.end());
  view.fields = {{"parked", st.parked()},
                 {"generation", st.generation()},
                 {"rules", st.rules()},
                 {"reloads", st.reloads()},
                 {"reload_failures", st.reload_failures()},
                 {"clients", st.clients()},
                 {"uptime_seconds", st.uptime_seconds()}};
  exporter_->update(render_prometheus(view));
}

void DaemonImpl::on_tick() {
  kernel_->heartbeat(clock_.monotonic_ns());
  kernel_->drain();  // records sent without a wakeup (audit, kernel denials)
  hashes_->expire(std::chrono::steady_clock::now());
  pipeline_->expire();
  pipeline_->catch_escapes();
  if (++ticks_ % 20 == 0) {
    pipeline_->recover_orphans();
  }
  log_->flush();  // every decision line reaches the file within a tick
}

void DaemonImpl::log_counters() {
  std::string line;
  for (const auto& [name, value] : kernel_->counters()) {
    if (value != 0) {
      line += fmt::format(" {}={}", name, value);
    }
  }
  std::string daemon;
  pipeline_->stats().each(
      [&](const char* name, uint64_t value) { daemon += fmt::format(" {}={}", name, value); });
  const ReloadStats& r = policy_->stats();
  spdlog::info("kernel counters:{}; daemon:{} reloads={} reload_failures={}", line, daemon,
               r.reloads, r.failures);
}

int DaemonImpl::run() {
  loop_->run();
  notifier_.stopping();
  // Stop parking new execs, take in what is already on its way, then let go of every parked
  // process according to on_shutdown. With pinned state the kernel goes on enforcing the last
  // policy for the next daemon.
  kernel_->leaving();
  kernel_->drain();
  pipeline_->release_all();
  pipeline_->set_observer(nullptr);
  approvals_.reset();
  exporter_.reset();
  if (fleet_) {
    fleet_->shutdown();  // offline status, within 500 ms
  }
  log_counters();
  log_->flush();
  kernel_.reset();
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
