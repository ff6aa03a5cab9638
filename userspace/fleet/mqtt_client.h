#pragma once
// The one user of libmosquitto: a move-only MQTT client owning its `struct mosquitto`. Two ways
// to drive it: an event loop calls loop_read/loop_write/loop_misc when socket() is readable,
// writable (want_write) or a timer fires (the daemon); or loop() blocks in libmosquitto's own
// select (the CLI). Either way everything happens on the caller's thread, callbacks included.

#include <chrono>
#include <functional>
#include <memory>
#include <string>
#include <string_view>

#include "common/result.h"
#include "fleet/broker_url.h"

namespace cmdgate::fleet {

struct MqttOptions {
  BrokerUrl broker;
  std::string client_id;
  std::chrono::seconds keepalive{30};
  std::string ca_file;    // mqtts: CA certificates (PEM); empty: the system's, /etc/ssl/certs
  std::string cert_file;  // mqtts: client certificate (PEM), with key_file
  std::string key_file;
  std::string username;  // empty: none
  std::string password;
};

struct MqttMessage {
  std::string_view topic;
  std::string_view payload;
  bool retain = false;
};

class MqttClient {
 public:
  struct Handlers {
    std::function<void(int rc)> on_connect;     // rc 0: accepted, else the CONNACK refusal
    std::function<void(int rc)> on_disconnect;  // rc 0: we asked for it
    std::function<void(const MqttMessage&)> on_message;
    std::function<void(int mid)> on_publish;  // QoS 1: the broker acknowledged mid
    std::function<void(int mid)> on_subscribe;
  };

  [[nodiscard]] static Result<MqttClient> create(const MqttOptions& options, Handlers handlers);
  MqttClient(MqttClient&&) noexcept;
  MqttClient& operator=(MqttClient&&) noexcept;
  ~MqttClient();

  // Sent with the next CONNECT: what the broker publishes when this client vanishes.
  [[nodiscard]] Status set_will(std::string_view topic, std::string_view payload, bool retain);
  // Starts a (re)connection without waiting for it (non-blocking socket; the host name is
  // resolved synchronously). Completion is reported through on_connect / on_disconnect.
  [[nodiscard]] Status connect_async();
  [[nodiscard]] Result<int> publish(std::string_view topic, std::string_view payload, bool retain,
                                    int qos = 1);
  [[nodiscard]] Result<int> subscribe(std::string_view topic, int qos = 1);
  // Sends DISCONNECT (no last will); the socket closes once it is written.
  void disconnect();

  // Event-loop driving. -1 when there is no socket.
  [[nodiscard]] int socket() const;
  [[nodiscard]] bool want_write() const;
  [[nodiscard]] Status loop_read();
  [[nodiscard]] Status loop_write();
  // Keepalive pings and timeouts: call at least every keepalive / 2.
  [[nodiscard]] Status loop_misc();

  // Blocking driving: one round of libmosquitto's select loop, at most `timeout`.
  [[nodiscard]] Status loop(std::chrono::milliseconds timeout);

 private:
  struct Impl;
  explicit MqttClient(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

// libmosquitto's MOSQ_ERR_* and CONNACK codes as text.
[[nodiscard]] std::string mqtt_error(int rc, int saved_errno = 0);
[[nodiscard]] std::string connack_error(int rc);

}  // namespace cmdgate::fleet
