#include "fleet/mqtt_session.h"

#include <spdlog/spdlog.h>
#include <sys/epoll.h>

namespace cmdgate::fleet {

Result<std::unique_ptr<MqttSession>> MqttSession::create(EventLoop& loop, MqttOptions options,
                                                         std::string will_topic, Backoff backoff,
                                                         Handlers handlers) {
  std::unique_ptr<MqttSession> s(
      new MqttSession(loop, std::move(will_topic), std::move(backoff), std::move(handlers)));
  s->broker_ = options.broker.text;
  MqttSession* self = s.get();
  auto client =
      MqttClient::create(options, {.on_connect = [self](int rc) { self->on_connect(rc); },
                                   .on_disconnect = [self](int rc) { self->on_disconnect(rc); },
                                   .on_message =
                                       [self](const MqttMessage& m) {
                                         if (self->handlers_.on_message) {
                                           self->handlers_.on_message(m);
                                         }
                                       },
                                   .on_publish = nullptr,
                                   .on_subscribe = nullptr});
  if (!client) {
    return client.error();
  }
  s->client_ = std::make_unique<MqttClient>(std::move(*client));
  // Keepalive pings and ping timeouts; libmosquitto wants this at least every keepalive / 2.
  loop.every(std::chrono::seconds(1), [self] {
    if (self->active_ && !self->stopped_) {
      (void)self->client_->loop_misc();
      self->sync();
    }
  });
  return s;
}

MqttSession::~MqttSession() {
  if (watched_ >= 0) {
    loop_.unwatch(watched_);
  }
  if (retry_ != 0) {
    loop_.cancel(retry_);
  }
}

void MqttSession::start() {
  attempt();
}

void MqttSession::attempt() {
  retry_ = 0;
  if (stopped_) {
    return;
  }
  if (handlers_.will) {
    if (auto s = client_->set_will(will_topic_, handlers_.will(), true); !s) {
      spdlog::warn("fleet: {}", s.error().message);
    }
  }
  // A reconnect closes the old socket inside libmosquitto; forget it first, so a new socket that
  // reuses its number is watched afresh.
  if (watched_ >= 0) {
    loop_.unwatch(watched_);
    watched_ = -1;
  }
  if (auto s = client_->connect_async(); !s) {
    lost(s.error().message);
    return;
  }
  active_ = true;
  sync();
}

void MqttSession::on_connect(int rc) {
  if (rc != 0) {
    // libmosquitto closes the connection after a refusal; sync() sees it and retries.
    last_failure_ = fmt::format("broker {} refused the connection: {}", broker_, connack_error(rc));
    return;
  }
  connected_ = true;
  backoff_.reset();
  if (failures_in_a_row_ > 0) {
    spdlog::info("fleet: connected to {} after {} failed attempt(s)", broker_, failures_in_a_row_);
  } else {
    spdlog::info("fleet: connected to {}", broker_);
  }
  failures_in_a_row_ = 0;
  if (handlers_.on_connected) {
    handlers_.on_connected();
  }
}

void MqttSession::on_disconnect(int rc) {
  if (connected_ && !stopped_) {
    spdlog::warn("fleet: connection to {} lost: {}", broker_, mqtt_error(rc));
  }
  connected_ = false;
}

void MqttSession::on_events(uint32_t events) {
  const int fd = client_->socket();
  if ((events & (EPOLLIN | EPOLLERR | EPOLLHUP)) != 0) {
    if (auto s = client_->loop_read(); !s && last_failure_.empty()) {
      last_failure_ = s.error().message;
    }
  }
  // Unless the read closed (or replaced) the socket.
  if ((events & EPOLLOUT) != 0 && fd >= 0 && client_->socket() == fd) {
    if (auto s = client_->loop_write(); !s && last_failure_.empty()) {
      last_failure_ = s.error().message;
    }
  }
  sync();
}

void MqttSession::sync() {
  const int fd = client_->socket();
  if (fd != watched_) {
    if (watched_ >= 0) {
      loop_.unwatch(watched_);
    }
    watched_ = -1;
    if (fd >= 0) {
      if (auto s = loop_.watch_events(fd, EPOLLIN, [this](uint32_t ev) { on_events(ev); }); !s) {
        spdlog::error("fleet: {}", s.error().message);
      } else {
        watched_ = fd;
        events_ = EPOLLIN;
      }
    }
  }
  if (watched_ >= 0) {
    // Output waits (or a connect is in progress): be told when the socket takes more.
    const uint32_t want = EPOLLIN | (client_->want_write() ? EPOLLOUT : 0u);
    if (want != events_) {
      loop_.modify(watched_, want);
      events_ = want;
    }
  } else if (active_) {
    lost(last_failure_.empty() ? "connection closed" : last_failure_);
  }
}

void MqttSession::lost(const std::string& why) {
  active_ = false;
  connected_ = false;
  last_failure_.clear();
  if (stopped_) {
    return;
  }
  // The first failure of a run is worth a warning; the retries after it, a debug line.
  if (failures_in_a_row_++ == 0) {
    spdlog::warn("fleet: {} unreachable: {}; retrying with backoff", broker_, why);
  } else {
    spdlog::debug("fleet: attempt {} failed: {}", failures_in_a_row_, why);
  }
  schedule_retry();
}

void MqttSession::schedule_retry() {
  if (retry_ != 0 || stopped_) {
    return;
  }
  retry_ = loop_.at(std::chrono::steady_clock::now() + backoff_.next(), [this] { attempt(); });
}

bool MqttSession::publish(const std::string& topic, const std::string& payload, bool retain) {
  if (!connected_) {
    return false;
  }
  auto mid = client_->publish(topic, payload, retain);
  if (!mid) {
    spdlog::warn("fleet: {}", mid.error().message);
  }
  sync();
  return mid.ok();
}

Status MqttSession::subscribe(const std::string& topic) {
  auto mid = client_->subscribe(topic);
  sync();
  if (!mid) {
    return mid.error();
  }
  return {};
}

void MqttSession::stop(const std::string& final_topic, const std::string& final_payload,
                       std::chrono::milliseconds budget) {
  if (stopped_) {
    return;
  }
  stopped_ = true;
  if (retry_ != 0) {
    loop_.cancel(retry_);
    retry_ = 0;
  }
  if (watched_ >= 0) {
    loop_.unwatch(watched_);
    watched_ = -1;
  }
  if (!connected_) {
    return;
  }
  (void)client_->publish(final_topic, final_payload, true);
  client_->disconnect();
  // DISCONNECT goes out after the status; libmosquitto closes the socket once it is written.
  const auto deadline = std::chrono::steady_clock::now() + budget;
  while (client_->socket() >= 0 && std::chrono::steady_clock::now() < deadline) {
    if (!client_->loop(std::chrono::milliseconds(50))) {
      break;
    }
  }
  connected_ = false;
  active_ = false;
}

}  // namespace cmdgate::fleet
