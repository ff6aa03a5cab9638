#pragma once
// An MQTT connection that lives on the daemon's event loop: the client's socket is watched for
// reading (and for writing while output is queued), a 1 s timer drives keepalives, and a lost or
// refused connection is retried after a jittered exponential backoff, forever. No thread: every
// callback runs on the loop, like the rest of the daemon.

#include <chrono>
#include <functional>
#include <memory>
#include <string>

#include "common/result.h"
#include "fleet/backoff.h"
#include "fleet/mqtt_client.h"
#include "loop/event_loop.h"

namespace cmdgate::fleet {

class MqttSession {
 public:
  struct Handlers {
    std::function<void()> on_connected;  // subscribe and announce here
    std::function<void(const MqttMessage&)> on_message;
    std::function<std::string()> will;  // the last will's payload, asked before each connect
  };

  [[nodiscard]] static Result<std::unique_ptr<MqttSession>> create(EventLoop& loop,
                                                                   MqttOptions options,
                                                                   std::string will_topic,
                                                                   Backoff backoff,
                                                                   Handlers handlers);
  ~MqttSession();

  // Starts connecting; from here on the session reconnects by itself.
  void start();
  // Publishes (QoS 1) when connected; false when not (the caller republishes on_connected).
  bool publish(const std::string& topic, const std::string& payload, bool retain);
  [[nodiscard]] Status subscribe(const std::string& topic);
  // Publishes `final_topic`/`final_payload` (retained) if connected, disconnects and pumps the
  // socket until that is written or `budget` runs out. The event loop is not used (it may have
  // stopped already).
  void stop(const std::string& final_topic, const std::string& final_payload,
            std::chrono::milliseconds budget);

  [[nodiscard]] bool connected() const { return connected_; }

 private:
  MqttSession(EventLoop& loop, std::string will_topic, Backoff backoff, Handlers handlers)
      : loop_(loop),
        will_topic_(std::move(will_topic)),
        backoff_(std::move(backoff)),
        handlers_(std::move(handlers)) {}

  void attempt();
  void on_connect(int rc);
  void on_disconnect(int rc);
  void on_events(uint32_t events);
  void lost(const std::string& why);
  void schedule_retry();
  // Follows the client's socket: watches a new one, forgets a closed one, sets write interest.
  void sync();

  EventLoop& loop_;
  std::string will_topic_;
  Backoff backoff_;
  Handlers handlers_;
  std::unique_ptr<MqttClient> client_;
  std::string broker_;
  int watched_ = -1;
  uint32_t events_ = 0;     // what the loop waits for on watched_
  bool active_ = false;     // a socket exists: connecting or connected
  bool connected_ = false;  // CONNACK accepted
  bool stopped_ = false;
  EventLoop::TimerId retry_ = 0;
  uint64_t failures_in_a_row_ = 0;
  std::string last_failure_;
};

}  // namespace cmdgate::fleet
