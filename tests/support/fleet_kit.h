#pragma once
// What fleet tests need besides the daemon harness (harness.h): a real mosquitto on
// loopback with a generated configuration, the operator's side through the real `cmdgate` CLI,
// and a raw MQTT publisher for payloads the CLI would never send.

#include <sys/types.h>

#include <chrono>
#include <cstdint>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "harness.h"

namespace cmdgate::test {

// mosquitto (scripts/deps installs it).
#define CMDGATE_REQUIRE_MOSQUITTO() CMDGATE_REQUIRE(::cmdgate::test::missing_mosquitto())

std::optional<std::string> missing_mosquitto();

// A mosquitto of our own: a free loopback port, persistence in its own directory, no other
// listener. Stopped (and waited for) when destroyed.
class Broker {
 public:
  static std::unique_ptr<Broker> start();
  ~Broker();

  uint16_t port() const { return port_; }
  std::string url() const { return "mqtt://127.0.0.1:" + std::to_string(port_); }
  // Stops the broker with `sig` (SIGKILL: a crash) and waits for it.
  void stop(int sig);
  // Starts it again on the same port; false (with a test failure) if it does not come up.
  bool restart();
  bool running() const { return pid_ > 0; }
  std::string log_text() const;

 private:
  Broker() = default;
  bool launch();

  TempDir dir_;
  uint16_t port_ = 0;
  pid_t pid_ = -1;
};

// cmdgate ARGS...
RunResult cli(const std::vector<std::string>& args);

// The operator: a signing key made with `cmdgate bundle keygen`, bundles made with
// `cmdgate bundle sign`, in a directory of its own.
class Signer {
 public:
  explicit Signer(const std::string& name = "ops");
  const std::string& key_id() const { return key_id_; }
  std::string public_key() const { return dir_.file(name_ + ".pub"); }
  std::string secret_key() const { return dir_.file(name_ + ".key"); }
  // Signs one rules file (toml) for group@version; returns the bundle's path, "" on failure
  // (with a test failure).
  std::string sign(const std::string& group, uint64_t version, const std::string& toml,
                   const std::vector<std::string>& extra = {});
  const TempDir& dir() const { return dir_; }

 private:
  TempDir dir_;
  std::string name_;
  std::string key_id_;
};

RunResult push(const Broker& broker, const std::string& group, const std::string& bundle);
// `cmdgate fleet status --json`; null on failure.
nlohmann::json fleet_status(const Broker& broker, const std::string& group = "");
// Waits until fleet status shows exactly `hosts` hosts of the group, all online on `version`.
bool wait_fleet_on(const Broker& broker, const std::string& group, size_t hosts, uint64_t version,
                   std::chrono::milliseconds timeout);
// Publishes raw bytes (QoS 1, retained) with the fleet library's client.
bool publish_raw(const Broker& broker, const std::string& topic, const std::string& payload);

void write_file(const std::string& path, const std::string& bytes);

// A cmdgated following `groups` on the broker, with its own trusted keys, state directory and
// config: in evaluation-only mode (no BPF, every other code path shared) unless told otherwise.
class FleetHost {
 public:
  struct Options {
    std::string host;
    std::vector<std::string> groups = {"web"};
    std::string local_rules = "";      // contents of its own rules file
    std::vector<std::string> trusted;  // public key files
    std::string extra_fleet;           // more lines for [fleet]
    bool wait_ready = true;
    bool evaluation_only = true;  // false: the real daemon with BPF (root tests)
  };
  FleetHost(const Broker& broker, Options options);
  ~FleetHost();

  bool start();  // (re)starts the daemon with the same directories
  // The local rules file of the next start().
  void set_local_rules(std::string toml) { options_.local_rules = std::move(toml); }
  int stop();
  void kill9();
  Agent* agent() { return agent_.get(); }
  std::string log_text() const;  // every run's log, in order
  bool wait_log(const std::string& text, std::chrono::milliseconds timeout) const;
  size_t count_log(const std::string& text) const;
  std::string state_dir() const { return dir_.file("state"); }
  const std::string& host() const { return options_.host; }

 private:
  Options options_;
  std::string broker_url_;
  TempDir dir_;
  std::unique_ptr<Agent> agent_;
  std::string previous_logs_;
};

}  // namespace cmdgate::test
