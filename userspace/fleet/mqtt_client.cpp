#include "fleet/mqtt_client.h"

#include <cerrno>
#include <cstring>

#include "fleet/mosquitto_api.h"

namespace cmdgate::fleet {
namespace {

struct MosquittoDeleter {
  const MosquittoApi* api;
  void operator()(mosquitto* m) const { api->mosquitto_destroy(m); }
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
  auto api = mosquitto_api();
  return api ? (*api)->mosquitto_strerror(rc) : fmt::format("MQTT error {}", rc);
}

std::string connack_error(int rc) {
  auto api = mosquitto_api();
  return api ? (*api)->mosquitto_connack_string(rc) : fmt::format("MQTT CONNACK {}", rc);
}

struct MqttClient::Impl {
  const MosquittoApi* api = nullptr;
  std::unique_ptr<mosquitto, MosquittoDeleter> mosq{nullptr, MosquittoDeleter{nullptr}};
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
  auto loaded = mosquitto_api();
  if (!loaded) {
    return loaded.error();
  }
  const MosquittoApi& api = **loaded;
  auto impl = std::make_unique<Impl>();
  impl->api = &api;
  impl->options = options;
  impl->handlers = std::move(handlers);
  // Clean session: every connection subscribes afresh and receives the retained bundle again,
  // so nothing depends on state the broker kept (or lost) across a restart.
  impl->mosq = std::unique_ptr<mosquitto, MosquittoDeleter>(
      api.mosquitto_new(options.client_id.c_str(), true, impl.get()), MosquittoDeleter{&api});
  if (!impl->mosq) {
    return Error::format("creating the MQTT client: {}", std::strerror(errno));
  }
  mosquitto* m = impl->mosq.get();
  if (auto s = check(api.mosquitto_int_option(m, MOSQ_OPT_PROTOCOL_VERSION, MQTT_PROTOCOL_V311),
                     "MQTT protocol version");
      !s) {
    return s.error();
  }
  if (auto s = check(api.mosquitto_int_option(m, MOSQ_OPT_TCP_NODELAY, 1), "TCP_NODELAY"); !s) {
    return s.error();
  }
  if (options.broker.tls) {
    // No CA file: the system's CA directory (hashed, as update-ca-certificates leaves it).
    const char* ca_file = options.ca_file.empty() ? nullptr : options.ca_file.c_str();
    const char* ca_path = options.ca_file.empty() ? "/etc/ssl/certs" : nullptr;
    const char* cert = options.cert_file.empty() ? nullptr : options.cert_file.c_str();
    const char* key = options.key_file.empty() ? nullptr : options.key_file.c_str();
    if (auto s =
            check(api.mosquitto_tls_set(m, ca_file, ca_path, cert, key, nullptr), "TLS settings");
        !s) {
      return s.error();
    }
  }
  if (!options.username.empty()) {
    if (auto s = check(api.mosquitto_username_pw_set(
                           m, options.username.c_str(),
                           options.password.empty() ? nullptr : options.password.c_str()),
                       "MQTT credentials");
        !s) {
      return s.error();
    }
  }
  api.mosquitto_connect_callback_set(m, [](mosquitto*, void* u, int rc) {
    if (auto& h = Impl::of(u).handlers.on_connect) {
      h(rc);
    }
  });
  api.mosquitto_disconnect_callback_set(m, [](mosquitto*, void* u, int rc) {
    if (auto& h = Impl::of(u).handlers.on_disconnect) {
      h(rc);
    }
  });
  api.mosquitto_message_callback_set(m, [](mosquitto*, void* u, const mosquitto_message* msg) {
    if (auto& h = Impl::of(u).handlers.on_message) {
      h(MqttMessage{msg->topic,
                    std::string_view(static_cast<const char*>(msg->payload),
                                     static_cast<size_t>(msg->payloadlen)),
                    msg->retain});
    }
  });
  api.mosquitto_publish_callback_set(m, [](mosquitto*, void* u, int mid) {
    if (auto& h = Impl::of(u).handlers.on_publish) {
      h(mid);
    }
  });
  api.mosquitto_subscribe_callback_set(m, [](mosquitto*, void* u, int mid, int, const int*) {
    if (auto& h = Impl::of(u).handlers.on_subscribe) {
      h(mid);
    }
  });
  return MqttClient(std::move(impl));
}

Status MqttClient::set_will(std::string_view topic, std::string_view payload, bool retain) {
  return check(
      impl_->api->mosquitto_will_set(impl_->mosq.get(), std::string(topic).c_str(),
                                     static_cast<int>(payload.size()), payload.data(), 1, retain),
      "setting the last will");
}

Status MqttClient::connect_async() {
  const MqttOptions& o = impl_->options;
  const int keepalive = static_cast<int>(o.keepalive.count());
  const int rc = impl_->started
                     ? impl_->api->mosquitto_reconnect_async(impl_->mosq.get())
                     : impl_->api->mosquitto_connect_async(impl_->mosq.get(), o.broker.host.c_str(),
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
  if (auto s = check(impl_->api->mosquitto_publish(
                         impl_->mosq.get(), &mid, std::string(topic).c_str(),
                         static_cast<int>(payload.size()), payload.data(), qos, retain),
                     fmt::format("publishing to {}", topic));
      !s) {
    return s.error();
  }
  return mid;
}

Result<int> MqttClient::subscribe(std::string_view topic, int qos) {
  int mid = 0;
  if (auto s = check(
          impl_->api->mosquitto_subscribe(impl_->mosq.get(), &mid, std::string(topic).c_str(), qos),
          fmt::format("subscribing to {}", topic));
      !s) {
    return s.error();
  }
  return mid;
}

void MqttClient::disconnect() {
  impl_->api->mosquitto_disconnect(impl_->mosq.get());
}

int MqttClient::socket() const {
  return impl_->api->mosquitto_socket(impl_->mosq.get());
}

bool MqttClient::want_write() const {
  return impl_->api->mosquitto_want_write(impl_->mosq.get());
}

Status MqttClient::loop_read() {
  return check(impl_->api->mosquitto_loop_read(impl_->mosq.get(), 1), "read");
}

Status MqttClient::loop_write() {
  return check(impl_->api->mosquitto_loop_write(impl_->mosq.get(), 1), "write");
}

Status MqttClient::loop_misc() {
  return check(impl_->api->mosquitto_loop_misc(impl_->mosq.get()), "keepalive");
}

Status MqttClient::loop(std::chrono::milliseconds timeout) {
  return check(impl_->api->mosquitto_loop(impl_->mosq.get(), static_cast<int>(timeout.count()), 1),
               "MQTT");
}

}  // namespace cmdgate::fleet
