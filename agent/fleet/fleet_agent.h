#pragma once
// The daemon's side of fleet rule push (docs/fleet.md). For each configured group it takes the
// bundles arriving on cmdgate/rules/<group>, and each one must pass, in order: size, envelope,
// trusted key, Ed25519 signature over the exact payload, payload checks, the group of the topic,
// rollback protection (fleet/succession.h), and finally the compile of the combined policy
// through PolicyManager::apply - the same atomic reload as local rule files. A bundle that fails
// any step changes nothing: the reason is logged, counted and published in the host's status.
// Applied bundles are saved as last-known-good and restored at the next start, before the
// broker is reachable.

#include <chrono>
#include <map>
#include <memory>
#include <string>
#include <string_view>

#include "common/result.h"
#include "fleet/bundle_state.h"
#include "fleet/fleet_config.h"
#include "fleet/mqtt_session.h"
#include "fleet/status.h"
#include "fleet/succession.h"
#include "loop/event_loop.h"
#include "policy/policy_manager.h"
#include "policy/policy_store.h"

namespace cmdgate::fleet {

struct FleetStats {
  uint64_t received = 0;  // messages on rules topics
  uint64_t applied = 0;
  uint64_t unchanged = 0;  // redeliveries of the bundle in force
  uint64_t rejected = 0;
};

class FleetAgent {
 public:
  // Checks the configuration, the trusted keys and the state directory; does not connect.
  [[nodiscard]] static Result<std::unique_ptr<FleetAgent>> create(const FleetConfig& config,
                                                                  EventLoop& loop,
                                                                  PolicyManager& policy,
                                                                  PolicyStore& store);

  // Restores the rollback floors and the last-known-good bundles and starts the policy manager
  // with them. If they cannot be combined with the local rules, starts from the local rules alone
  // (logged, and in the status); the floors stay, so nothing older becomes acceptable.
  [[nodiscard]] Status start_policy();
  // Connects, and from then on reconnects with backoff whenever the broker goes away.
  void connect();
  // A reload happened (local files, SIGHUP): the rule count in the status may have changed.
  void policy_changed();
  // Publishes the offline status and disconnects, within a bounded time.
  void shutdown();

  // For the daemon's logs and tests.
  [[nodiscard]] const FleetStats& stats() const { return stats_; }
  [[nodiscard]] const std::string& host_id() const { return host_; }

 private:
  FleetAgent(const FleetConfig& config, PolicyManager& policy, PolicyStore& store);

  void restore_group(const std::string& group, const TrustedKeys& keys);
  void on_connected();
  void on_message(const MqttMessage& message);
  // retained: delivered because we subscribed (the broker's retained copy), not as published.
  void offer(const std::string& group, std::string_view bytes, bool retained);
  void finish_apply(const std::string& group, VerifiedBundle bundle, bool retained,
                    std::chrono::steady_clock::time_point started, const Status& applied);
  // Offers the next bundle that arrived while another was being applied.
  void next_waiting();
  void reject(const std::string& group, const std::string& what, const std::string& why);
  // The pushed layer for the histories given (in configured group order); none when no group
  // has a bundle in force.
  [[nodiscard]] std::optional<PushedRules> pushed_rules(
      const std::map<std::string, GroupHistory>& histories) const;
  [[nodiscard]] std::string in_force_label(const std::string& group) const;
  [[nodiscard]] HostStatus status(bool online) const;
  void publish_status();

  FleetConfig config_;
  PolicyManager& policy_;
  PolicyStore& store_;
  std::string host_;
  BundleState state_;
  std::unique_ptr<MqttSession> session_;
  std::map<std::string, GroupHistory> histories_;
  std::map<std::string, GroupStatus> group_status_;
  FleetStats stats_;
  // A bundle is being compiled (PolicyManager::apply runs on its worker); the status follows
  // once the outcome is known, and later arrivals wait in waiting_.
  bool applying_ = false;
  struct Waiting {
    std::string bytes;
    bool retained = false;
  };
  std::map<std::string, Waiting> waiting_;
};

}  // namespace cmdgate::fleet
