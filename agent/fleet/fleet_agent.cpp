#include "fleet/fleet_agent.h"

#include <fmt/ranges.h>
#include <spdlog/spdlog.h>
#include <unistd.h>

#include <algorithm>
#include <climits>
#include <random>

#include "fleet/bundle_codec.h"
#include "common/host_name.h"
#include "fleet/names.h"
#include "fleet/secure_file.h"

namespace cmdgate::fleet {
namespace {

std::string bytes_message(std::string_view bytes) {
  return fmt::format("a message of {} bytes", bytes.size());
}

}  // namespace

FleetAgent::FleetAgent(const FleetConfig& config, PolicyManager& policy, PolicyStore& store)
    : config_(config),
      policy_(policy),
      store_(store),
      state_(config.state_dir, config.max_bundle_bytes) {}

Result<std::unique_ptr<FleetAgent>> FleetAgent::create(const FleetConfig& config, EventLoop& loop,
                                                       PolicyManager& policy, PolicyStore& store) {
  if (auto s = validate(config); !s) {
    return s.error();
  }
  std::unique_ptr<FleetAgent> a(new FleetAgent(config, policy, store));
  if (config.host_id.empty()) {
    auto h = cmdgate::host_name();
    if (!h) {
      return h.error().context("fleet (set fleet.host_id)");
    }
    a->host_ = *h;
  } else {
    a->host_ = config.host_id;
  }
  if (auto s = check_name(a->host_, "host id"); !s) {
    return s.error().context("fleet (set fleet.host_id)");
  }
  // Fail at start, not at the first push: an agent that can verify nothing is misconfigured.
  if (auto keys = TrustedKeys::load_dir(config.trusted_keys); !keys) {
    return keys.error().context("fleet");
  }
  if (auto s = a->state_.prepare(); !s) {
    return s.error().context("fleet: state directory");
  }
  auto options = mqtt_options(config.access(), Spelling::kConfig, "cmdgated-" + a->host_);
  if (!options) {
    return options.error().context("fleet");
  }
  MqttOptions mqtt = std::move(*options);
  mqtt.keepalive = std::chrono::ceil<std::chrono::seconds>(config.keepalive);
  for (const auto& g : config.groups) {
    a->histories_[g];
    a->group_status_[g].group = g;
  }
  FleetAgent* self = a.get();
  auto session =
      MqttSession::create(loop, std::move(mqtt), status_topic(a->host_),
                          Backoff(config.reconnect_min, config.reconnect_max,
                                  std::random_device()() ^ std::hash<std::string>()(a->host_)),
                          {.on_connected = [self] { self->on_connected(); },
                           .on_message = [self](const MqttMessage& m) { self->on_message(m); },
                           .will = [self] { return encode_status(self->status(false)); }});
  if (!session) {
    return session.error().context("fleet");
  }
  a->session_ = std::move(*session);
  return a;
}

void FleetAgent::restore_group(const std::string& g, const TrustedKeys& keys) {
  Restored r = state_.restore(g, keys);
  GroupStatus& gs = group_status_[g];
  for (const auto& problem : r.problems) {
    spdlog::error("fleet: group {}: not using a saved file: {}", g, problem);
    gs.saved_bundle_error +=
        fmt::format("{}{}", gs.saved_bundle_error.empty() ? "" : "; ", problem);
  }
  histories_[g] = std::move(r.history);
  const GroupHistory& h = histories_[g];
  if (!h.floor.unknown.empty()) {
    spdlog::critical(
        "fleet: group {}: the rollback floor is unknown ({}); every bundle for the group is "
        "refused until an operator runs cmdgated --reset-fleet-floor {}",
        g, h.floor.unknown, g);
  } else if (!r.floor_recorded && h.floor.version != 0) {
    // Saved by an agent without floor records, or the record was removed: what the saved
    // bundles say is the floor from now on.
    spdlog::warn("fleet: group {}: no rollback floor record; version {} from the saved bundles is "
                 "the floor",
                 g, h.floor.version);
    if (auto s = state_.save_floor(g, h.floor); !s) {
      spdlog::error("fleet: group {}: the rollback floor was not saved: {}", g, s.error().message);
    }
  }
  gs.floor = h.floor.version;
  gs.floor_unknown = !h.floor.unknown.empty();
  if (const auto& v = h.in_force) {
    spdlog::info("fleet: group {}: last-known-good bundle {} (key {}) restored from {}", g,
                 describe(v->bundle), v->key_id, state_.bundle_path(g));
    gs.version = v->bundle.version;
    gs.key_id = v->key_id;
  } else if (h.floor.version != 0) {
    spdlog::error("fleet: group {}: no saved bundle in force; bundles below version {} (the "
                  "rollback floor) stay refused",
                  g, h.floor.version);
  }
}

Status FleetAgent::start_policy() {
  auto keys = TrustedKeys::load_dir(config_.trusted_keys);
  if (!keys) {
    return keys.error().context("fleet");
  }
  for (const auto& g : config_.groups) {
    restore_group(g, *keys);
  }
  PolicySource source = store_.source();
  source.pushed = pushed_rules(histories_);
  const bool restored = source.pushed.has_value();
  store_.set_source(std::move(source));
  Status s = policy_.start();
  if (s || !restored) {
    return s;
  }
  spdlog::error(
      "fleet: the last-known-good bundles cannot be combined with the local rules: {}; "
      "starting from the local rules alone; the rollback floor stays",
      s.error().message);
  for (auto& [g, h] : histories_) {
    if (h.in_force) {
      GroupStatus& gs = group_status_[g];
      gs.saved_bundle_error = fmt::format("{} cannot be combined with the local rules: {}",
                                          describe(h.in_force->bundle), s.error().message);
      gs.version = 0;
      gs.key_id.clear();
      // The next delivery is judged against the floor, which still holds this version.
      h.in_force.reset();
    }
  }
  PolicySource local = store_.source();
  local.pushed.reset();
  store_.set_source(std::move(local));
  return policy_.start();
}

void FleetAgent::connect() {
  spdlog::info("fleet: host {} joining group(s) {} on {}", host_, fmt::join(config_.groups, ", "),
               config_.broker);
  session_->start();
}

void FleetAgent::on_connected() {
  for (const auto& g : config_.groups) {
    if (auto s = session_->subscribe(rules_topic(g)); !s) {
      spdlog::error("fleet: {}", s.error().message);
    }
  }
  publish_status();
}

void FleetAgent::on_message(const MqttMessage& m) {
  if (!m.topic.starts_with(kRulesTopicPrefix)) {
    spdlog::warn("fleet: ignoring a message on unexpected topic {}", m.topic);
    return;
  }
  const std::string group(m.topic.substr(kRulesTopicPrefix.size()));
  if (!histories_.contains(group)) {
    spdlog::warn("fleet: ignoring a message for group '{}', which this host is not in", group);
    return;
  }
  ++stats_.received;
  offer(group, m.payload, m.retain);
}

void FleetAgent::offer(const std::string& group, std::string_view bytes, bool retained) {
  if (bytes.empty()) {
    spdlog::info(
        "fleet: group {}: the retained bundle was cleared on the broker; {} stays in "
        "force",
        group, in_force_label(group));
    return;
  }
  if (applying_) {
    // One compile at a time; of what arrives meanwhile, the latest per group is what counts.
    waiting_[group] = {std::string(bytes), retained};
    spdlog::debug("fleet: group {}: a bundle waits for the one being applied", group);
    return;
  }
  const auto started = std::chrono::steady_clock::now();
  auto keys = TrustedKeys::load_dir(config_.trusted_keys);
  if (!keys) {
    reject(group, bytes_message(bytes), keys.error().message);
    return;
  }
  auto v = verify_bundle(bytes, *keys, config_.max_bundle_bytes);
  if (!v) {
    reject(group, bytes_message(bytes), v.error().message);
    return;
  }
  const std::string what = fmt::format("{} (key {})", describe(v->bundle), v->key_id);
  if (v->bundle.group != group) {
    reject(group, what,
           fmt::format("it is signed for group '{}' but arrived on {}", v->bundle.group,
                       rules_topic(group)));
    return;
  }
  auto succession = judge_succession(histories_[group], *v);
  if (!succession) {
    reject(group, what, succession.error().message);
    return;
  }
  if (*succession == Succession::kRecovered) {
    spdlog::warn("fleet: group {}: {} is the version of the rollback floor, whose saved copy was "
                 "lost: applying it again",
                 group, what);
  }
  if (*succession == Succession::kUnchanged) {
    ++stats_.unchanged;
    spdlog::debug("fleet: group {}: {} is already in force", group, what);
    return;
  }
  auto candidate = histories_;
  candidate[group].in_force = *v;
  PolicySource source = store_.source();
  source.pushed = pushed_rules(candidate);
  applying_ = true;
  auto verified = std::make_shared<VerifiedBundle>(std::move(*v));
  policy_.apply(std::move(source), fmt::format("fleet bundle {}", what),
                [this, group, verified, retained, started](const Status& s) {
                  applying_ = false;
                  finish_apply(group, std::move(*verified), retained, started, s);
                  next_waiting();
                });
}

void FleetAgent::finish_apply(const std::string& group, VerifiedBundle v, bool retained,
                              std::chrono::steady_clock::time_point started,
                              const Status& applied) {
  const std::string what = fmt::format("{} (key {})", describe(v.bundle), v.key_id);
  if (!applied) {
    reject(group, what, applied.error().message);
    return;
  }
  record_applied(histories_[group], std::move(v));
  const GroupHistory& h = histories_[group];
  if (auto s = state_.save(group, *h.in_force, h.floor); !s) {
    spdlog::error("fleet: group {}: {} is in force but was not saved as last-known-good: {}", group,
                  what, s.error().message);
  }
  const Bundle& b = h.in_force->bundle;
  const size_t files = b.files.size();
  const std::string rollback = b.rollback
                                   ? fmt::format(", a rollback from version {} ({})",
                                                 b.rollback->from_version, b.rollback->reason)
                                   : "";
  GroupStatus& gs = group_status_[group];
  gs.version = b.version;
  gs.key_id = h.in_force->key_id;
  gs.floor = h.floor.version;
  gs.applied_unix_ms = now_unix_ms();
  gs.last_error.clear();
  gs.last_error_unix_ms = 0;
  gs.saved_bundle_error.clear();
  ++stats_.applied;
  spdlog::info("fleet: group {}: applied {}{}, {} file(s), {}, in {} ms", group, what, rollback,
               files, retained ? "from the retained message" : "as published",
               std::chrono::duration_cast<std::chrono::milliseconds>(
                   std::chrono::steady_clock::now() - started)
                   .count());
  publish_status();
}

void FleetAgent::next_waiting() {
  if (applying_ || waiting_.empty()) {
    return;
  }
  auto node = waiting_.extract(waiting_.begin());
  offer(node.key(), node.mapped().bytes, node.mapped().retained);
}

void FleetAgent::reject(const std::string& group, const std::string& what, const std::string& why) {
  ++stats_.rejected;
  GroupStatus& gs = group_status_[group];
  ++gs.rejected;
  gs.last_error = fmt::format("refused {}: {}", what, why);
  gs.last_error_unix_ms = now_unix_ms();
  spdlog::error("fleet: group {}: refused {}: {}; {} stays in force", group, what, why,
                in_force_label(group));
  publish_status();
}

std::optional<PushedRules> FleetAgent::pushed_rules(
    const std::map<std::string, GroupHistory>& histories) const {
  PushedRules p;
  bool any = false;
  bool admit = true;
  std::optional<std::vector<rules::Action>> allowed;  // none: any action
  for (const auto& g : config_.groups) {
    auto it = histories.find(g);
    if (it == histories.end() || !it->second.in_force) {
      continue;
    }
    any = true;
    const Bundle& b = it->second.in_force->bundle;
    p.label += fmt::format("{}{}", p.label.empty() ? "" : ", ", describe(b));
    for (const auto& f : b.files) {
      p.documents.push_back({fmt::format("fleet:{}@{}/{}", g, b.version, f.name), f.content});
    }
    if (!b.admit_local) {
      admit = false;
    } else if (!b.local_actions.empty()) {
      if (!allowed) {
        allowed = b.local_actions;
      } else {
        std::erase_if(*allowed, [&](rules::Action a) {
          return std::find(b.local_actions.begin(), b.local_actions.end(), a) ==
                 b.local_actions.end();
        });
      }
    }
  }
  if (!any) {
    return std::nullopt;
  }
  // Bundles that admit local rules but no action in common admit none.
  p.admit_local = admit && !(allowed && allowed->empty());
  if (p.admit_local && allowed) {
    p.local_actions = *allowed;
  }
  return p;
}

std::string FleetAgent::in_force_label(const std::string& group) const {
  auto it = histories_.find(group);
  if (it == histories_.end() || !it->second.in_force) {
    return "no bundle (the local rules)";
  }
  return describe(it->second.in_force->bundle);
}

HostStatus FleetAgent::status(bool online) const {
  HostStatus s;
  s.host = host_;
  s.online = online;
  s.timestamp_unix_ms = now_unix_ms();
  if (const Snapshot* snap = store_.current()) {
    s.rules = snap->policy->rule_set().rules.size();
    s.generation = snap->generation;
  }
  for (const auto& g : config_.groups) {
    s.groups.push_back(group_status_.at(g));
  }
  return s;
}

void FleetAgent::publish_status() {
  session_->publish(status_topic(host_), encode_status(status(true)), true);
}

void FleetAgent::policy_changed() {
  if (!applying_) {
    publish_status();
  }
}

void FleetAgent::shutdown() {
  session_->stop(status_topic(host_), encode_status(status(false)), std::chrono::milliseconds(500));
  spdlog::info("fleet: bundles received={} applied={} unchanged={} rejected={}", stats_.received,
               stats_.applied, stats_.unchanged, stats_.rejected);
}

}  // namespace cmdgate::fleet
