#include "cli/broker_connection.h"

#include <unistd.h>

#include <random>

#include "fleet/broker_access.h"
#include "common/duration.h"

namespace cmdgate::cli {

void add_broker_options(CLI::App* cmd, BrokerOptions& o) {
  cmd->add_option("--broker", o.url, "MQTT broker: mqtt://host[:port] or mqtts://host[:port]")
      ->required();
  cmd->add_option("--ca-file", o.ca_file, "mqtts: CA certificates (PEM; default: the system's)");
  cmd->add_option("--cert-file", o.cert_file, "mqtts: client certificate (PEM)");
  cmd->add_option("--key-file", o.key_file, "mqtts: client certificate's key (PEM)");
  cmd->add_option("--username", o.username, "MQTT user name");
  cmd->add_option("--password-file", o.password_file,
                  "File whose first line is the MQTT password (mode 0600)");
  cmd->add_option("--timeout", o.timeout, "Give up after this long (default 10s)");
  cmd->add_flag("--allow-plaintext", o.allow_plaintext,
                "Allow mqtt:// (no TLS) to a broker that is not on this host");
}

Result<std::unique_ptr<BrokerConnection>> BrokerConnection::open(const BrokerOptions& o) {
  auto timeout = parse_duration(o.timeout);
  if (!timeout) {
    return Error::format("--timeout: {}", timeout.error().message);
  }
  auto options = fleet::mqtt_options(
      {o.url, o.ca_file, o.cert_file, o.key_file, o.username, o.password_file,
       o.allow_plaintext},
      fleet::Spelling::kFlags,
      fmt::format("cmdgate-cli-{}-{:08x}", ::getpid(), std::random_device()()));
  if (!options) {
    return options.error();
  }
  std::unique_ptr<BrokerConnection> c(new BrokerConnection());
  c->url_ = o.url;
  c->deadline_ = std::chrono::steady_clock::now() + *timeout;
  BrokerConnection* self = c.get();
  auto client = fleet::MqttClient::create(
      *options, {.on_connect = [self](int rc) { self->connack_ = rc; },
             .on_disconnect = [self](int) { self->disconnected_ = true; },
             .on_message =
                 [self](const fleet::MqttMessage& m) {
                   self->messages_.push_back({std::string(m.topic), std::string(m.payload)});
                   self->last_message_ = std::chrono::steady_clock::now();
                 },
             .on_publish = [self](int mid) { self->acked_.insert(mid); },
             .on_subscribe = [self](int mid) { self->acked_.insert(mid); }});
  if (!client) {
    return client.error();
  }
  c->client_ = std::make_unique<fleet::MqttClient>(std::move(*client));
  if (auto s = c->client_->connect_async(); !s) {
    return s.error();
  }
  if (auto s = c->pump([self] { return self->connack_ >= 0; }, "the broker to accept"); !s) {
    return s.error();
  }
  if (c->connack_ != 0) {
    return Error::format("{} refused the connection: {}", o.url, fleet::connack_error(c->connack_));
  }
  return c;
}

BrokerConnection::~BrokerConnection() {
  if (client_ && connack_ == 0 && !disconnected_) {
    client_->disconnect();
    for (int i = 0; i < 20 && client_->socket() >= 0; ++i) {
      if (!client_->loop(std::chrono::milliseconds(50))) {
        break;
      }
    }
  }
}

Status BrokerConnection::pump(const std::function<bool()>& pred, std::string_view waiting_for) {
  while (!pred()) {
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
        deadline_ - std::chrono::steady_clock::now());
    if (left.count() <= 0) {
      return Error::format("{}: timed out waiting for {}", url_, waiting_for);
    }
    if (auto s = client_->loop(std::min(left, std::chrono::milliseconds(100))); !s) {
      return Error::format("{}: {}", url_, s.error().message);
    }
    if (disconnected_ && !pred()) {
      return Error::format("{}: the broker closed the connection while waiting for {}", url_,
                           waiting_for);
    }
  }
  return {};
}

Status BrokerConnection::publish(const std::string& topic, const std::string& payload,
                                 bool retain) {
  auto mid = client_->publish(topic, payload, retain);
  if (!mid) {
    return mid.error();
  }
  return pump([&] { return acked_.contains(*mid); },
              fmt::format("the broker to acknowledge the message on {}", topic));
}

Status BrokerConnection::subscribe(const std::vector<std::string>& topics) {
  std::vector<int> mids;
  for (const auto& t : topics) {
    auto mid = client_->subscribe(t);
    if (!mid) {
      return mid.error();
    }
    mids.push_back(*mid);
  }
  last_message_ = std::chrono::steady_clock::now();
  return pump(
      [&] {
        return std::all_of(mids.begin(), mids.end(), [&](int m) { return acked_.contains(m); });
      },
      "the subscriptions to be acknowledged");
}

std::vector<ReceivedMessage> BrokerConnection::collect(std::chrono::milliseconds settle) {
  last_message_ = std::chrono::steady_clock::now();
  while (std::chrono::steady_clock::now() < deadline_ &&
         std::chrono::steady_clock::now() - last_message_ < settle) {
    if (!client_->loop(std::chrono::milliseconds(20))) {
      break;
    }
  }
  return std::move(messages_);
}

}  // namespace cmdgate::cli
