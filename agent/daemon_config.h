#pragma once
// Every setting of cmdgated, with its default. Filled from /etc/cmdgate/cmdgate.toml
// (config/config_file.h) and then from command-line flags, which win.

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "approval/auth_policy.h"
#include "fleet/fleet_config.h"
#include "kernel/enforcement.h"
#include "log/decision_log.h"
#include "notify/notify_programs.h"
#include "probe/abi_check.h"
#include "rules/model.h"

namespace cmdgate {

struct DaemonConfig {
  std::vector<std::string> rule_paths;
  std::optional<rules::Mode> mode_override;
  std::string audit_log = "/var/log/cmdgate/decisions.jsonl";
  LogRotation audit_log_rotation;
  // The last-known-good copy of the local rule files (policy/local_last_known_good.h).
  std::string last_known_good = "/var/lib/cmdgate/local-rules.json";
  std::string log_level = "info";

  uint32_t ringbuf_bytes = CG_DEFAULT_RINGBUF_BYTES;
  cg_delivery_failure delivery_failure = CG_FAIL_KILL;
  std::chrono::milliseconds daemon_stale_after{5000};
  std::string pin_dir = "/sys/fs/bpf/cmdgate";
  rules::Action on_shutdown = rules::Action::kDeny;
  EnforcementMode enforcement = EnforcementMode::kAuto;

  // The approval socket.
  std::string socket_path = "/run/cmdgate/cmdgate.sock";
  std::string approver_group = kDefaultApproverGroup;
  uint32_t socket_mode = 0660;
  bool fallback_when_no_approver = false;  // when_no_approver = "fallback"
  // unsafe_park = "park": park asks even where nothing stops the owner resuming them (no BPF LSM
  // signal and ptrace hooks, no in-kernel escape guard). Default "deny": such asks are denied.
  bool park_where_unsafe = false;
  NotifySettings notify;  // programs told of every new request
  std::string local_rules_file;            // for permanent approvals
  // Who must prove to be a person (PAM) to approve: docs/approvals.md.
  AuthenticateWhen authenticate = AuthenticateWhen::kSameUid;

  // Prometheus text on this host:port ("" = off); a loopback address unless
  // metrics_beyond_loopback ([metrics] exposure = "network").
  std::string metrics_listen;
  bool metrics_beyond_loopback = false;

  // No BPF: policies are compiled, published and reported, nothing is enforced (fleet tests).
  bool evaluation_only = false;

  std::chrono::milliseconds tick{50};  // audit drain, heartbeat and deadline resolution

  fleet::FleetConfig fleet;  // [fleet]: rule bundles pushed over MQTT (docs/fleet.md)
};

}  // namespace cmdgate
