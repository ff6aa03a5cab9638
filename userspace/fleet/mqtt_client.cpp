#include "fleet/mqtt_client.h"

#include <mosquitto.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>

namespace cmdgate::fleet {
namespace {

void ensure_library() {
  // Once per process; never cleaned up, since clients may live until exit.
  static const int rc = mosquitto_lib_init();
  if (rc != MOSQ_ERR_SUCCESS) {
    std::abort();
  }
}

struct MosquittoDeleter {
  void operator()(mosquitto* m) const { mosquitto_destroy(m); }
};

Status check(int rc, std::string_view what) {
  const int saved = errno;
  if (rc == MOSQ_ERR_SUCCESS) {
    return {};
  }
  return Error::format("{}: {}", what, mqtt_error(rc, saved));
}

}  // namespace

std::string mqtt_error(int rc, int saved_errno) {
  if (rc == MOSQ_ERR_ERRNO && saved_errno != 0) {
    return std::strerror(saved_errno);
  }
  return mosquitto_strerror(rc);
}

std::string connack_error(int rc) {
  return mosquitto_connack_string(rc);
}

struct MqttClient::Impl {
  std::unique_ptr<mosquitto, MosquittoDeleter> mosq;
  MqttOptions options;
  Handlers handlers;
  bool started = false;

  static Impl& of(void* userdata) { return *static_cast<Impl*>(userdata); }
};

MqttClient::MqttClient(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
MqttClient::MqttClient(MqttClient&&) noexcept = default;
MqttClient& MqttClient::operator=(MqttClient&&) noexcept = default;
MqttClient::~MqttClient() = default;

Result<MqttClient> MqttClient::create(const MqttOptions& options, Handlers handlers) {
  ensure_library();
  auto impl = std::make_unique<Impl>();
  impl->options = options;
  impl->handlers = std::move(handlers);
  // Clean session: every connection subscribes afresh and receives the retained bundle again,
  // so nothing depends on state the broker kept (or lost) across a restart.
  impl->mosq.reset(mosquitto_new(options.client_id.c_str(), true, impl.get()));
  if (!impl->mosq) {
    return Error::format("creating the MQTT client: {}", std::strerror(errno));
  }
  mosquitto* m = impl->mosq.get();
  if (auto s = check(mosquitto_int_option(m, MOSQ_OPT_PROTOCOL_VERSION, MQTT_PROTOCOL_V311),
                     "MQTT protocol version");
      !s) {
    return s.error();
  }
  if (auto s = check(mosquitto_int_option(m, MOSQ_OPT_TCP_NODELAY, 1), "TCP_NODELAY"); !s) {
    return s.error();
  }
  if (options.broker.tls) {
    // No CA file: the system's CA directory (hashed, as update-ca-certificates leaves it).
    const char* ca_file = options.ca_file.empty() ? nullptr : options.ca_file.c_str();
    const char* ca_path = options.ca_file.empty() ? "/etc/ssl/certs" : nullptr;
    const char* cert = options.cert_file.empty() ? nullptr : options.cert_file.c_str();
    const char* key = options.key_file.empty() ? nullptr : options.key_file.c_str();
    if (auto s = check(mosquitto_tls_set(m, ca_file, ca_path, cert, key, nullptr), "TLS settings");
        !s) {
      return s.error();
    }
  }
  if (!options.username.empty()) {
    if (auto s = check(mosquitto_username_pw_set(
                           m, options.username.c_str(),
                           options.password.empty() ? nullptr : options.password.c_str()),
                       "MQTT credentials");
        !s) {
      return s.error();
    }
  }
  mosquitto_connect_callback_set(m, [](mosquitto*, void* u, int rc) {
    if (auto& h = Impl::of(u).handlers.on_connect) {
      h(rc);
    }
  });
  mosquitto_disconnect_callback_set(m, [](mosquitto*, void* u, int rc) {
    if (auto& h = Impl::of(u).handlers.on_disconnect) {
      h(rc);
    }
  });
  mosquitto_message_callback_set(m, [](mosquitto*, void* u, const mosquitto_message* msg) {
    if (auto& h = Impl::of(u).handlers.on_message) {
      h(MqttMessage{msg->topic,
                    std::string_view(static_cast<const char*>(msg->payload),
                                     static_cast<size_t>(msg->payloadlen)),
                    msg->retain});
    }
  });
  mosquitto_publish_callback_set(m, [](mosquitto*, void* u, int mid) {
    if (auto& h = Impl::of(u).handlers.on_publish) {
      h(mid);
    }
  });
  mosquitto_subscribe_callback_set(m, [](mosquitto*, void* u, int mid, int, const int*) {
    if (auto& h = Impl::of(u).handlers.on_subscribe) {
      h(mid);
    }
  });
  return MqttClient(std::move(impl));
}

Status MqttClient::set_will(std::string_view topic, std::string_view payload, bool retain) {
  return check(mosquitto_will_set(impl_->mosq.get(), std::string(topic).c_str(),
                                  static_cast<int>(payload.size()), payload.data(), 1, retain),
               "setting the last will");
}

Status MqttClient::connect_async() {
  const MqttOptions& o = impl_->options;
  const int keepalive = static_cast<int>(o.keepalive.count());
  const int rc = impl_->started ? mosquitto_reconnect_async(impl_->mosq.get())
                                : mosquitto_connect_async(impl_->mosq.get(), o.broker.host.c_str(),
                                                          o.broker.port, keepalive);
  const int saved = errno;
  if (rc == MOSQ_ERR_SUCCESS) {
    impl_->started = true;
    return {};
  }
  return Error::format("connecting to {}: {}", o.broker.text, mqtt_error(rc, saved));
}

Result<int> MqttClient::publish(std::string_view topic, std::string_view payload, bool retain,
                                int qos) {
  int mid = 0;
  if (auto s =
          check(mosquitto_publish(impl_->mosq.get(), &mid, std::string(topic).c_str(),
                                  static_cast<int>(payload.size()), payload.data(), qos, retain),
                fmt::format("publishing to {}", topic));
      !s) {
    return s.error();
  }
  return mid;
}

Result<int> MqttClient::subscribe(std::string_view topic, int qos) {
  int mid = 0;
  if (auto s = check(mosquitto_subscribe(impl_->mosq.get(), &mid, std::string(topic).c_str(), qos),
                     fmt::format("subscribing to {}", topic));
      !s) {
    return s.error();
  }
  return mid;
}

void MqttClient::disconnect() {
  mosquitto_disconnect(impl_->mosq.get());
}

int MqttClient::socket() const {
  return mosquitto_socket(impl_->mosq.get());
}

bool MqttClient::want_write() const {
  return mosquitto_want_write(impl_->mosq.get());
}

Status MqttClient::loop_read() {
  return check(mosquitto_loop_read(impl_->mosq.get(), 1), "read");
}

Status MqttClient::loop_write() {
  return check(mosquitto_loop_write(impl_->mosq.get(), 1), "write");
}

Status MqttClient::loop_misc() {
  return check(mosquitto_loop_misc(impl_->mosq.get()), "keepalive");
}

Status MqttClient::loop(std::chrono::milliseconds timeout) {
  return check(mosquitto_loop(impl_->mosq.get(), static_cast<int>(timeout.count()), 1), "MQTT");
}

}  // namespace cmdgate::fleet
