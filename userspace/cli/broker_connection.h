#pragma once
// The CLI's side of the broker (cmdgate push, cmdgate fleet status): the shared options (URL,
// TLS, credentials, timeout) and a blocking connection with a deadline over fleet::MqttClient.

#include <CLI/CLI.hpp>
#include <chrono>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "common/result.h"
#include "fleet/mqtt_client.h"

namespace cmdgate::cli {

struct BrokerOptions {
  std::string url;
  std::string ca_file;
  std::string cert_file;
  std::string key_file;
  std::string username;
  std::string password_file;
  std::string timeout = "10s";
  bool allow_plaintext = false;
};

void add_broker_options(CLI::App* cmd, BrokerOptions& options);

struct ReceivedMessage {
  std::string topic;
  std::string payload;
};

class BrokerConnection {
 public:
  // Connects and waits for the broker to accept, within the --timeout.
  [[nodiscard]] static Result<std::unique_ptr<BrokerConnection>> open(const BrokerOptions& options);
  ~BrokerConnection();

  // QoS 1; returns once the broker acknowledged it.
  [[nodiscard]] Status publish(const std::string& topic, const std::string& payload, bool retain);
  // Subscribes (QoS 1) and waits for the acknowledgements.
  [[nodiscard]] Status subscribe(const std::vector<std::string>& topics);
  // Messages received until none arrived for `settle` (retained messages come right after the
  // subscription), or the deadline.
  [[nodiscard]] std::vector<ReceivedMessage> collect(std::chrono::milliseconds settle);

 private:
  BrokerConnection() = default;
  // Runs the client until pred() holds, or the deadline passes (an error saying `waiting_for`).
  [[nodiscard]] Status pump(const std::function<bool()>& pred, std::string_view waiting_for);

  std::unique_ptr<fleet::MqttClient> client_;
  std::string url_;
  std::chrono::steady_clock::time_point deadline_;
  int connack_ = -1;
  bool disconnected_ = false;
  std::set<int> acked_;
  std::vector<ReceivedMessage> messages_;
  std::chrono::steady_clock::time_point last_message_;
};

}  // namespace cmdgate::cli
