#include "fleet_kit.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <pwd.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>
#include <thread>

#include "fleet/mqtt_client.h"

namespace cmdgate::test {
namespace {

constexpr const char* kMosquitto = "/usr/sbin/mosquitto";

bool port_accepts(uint16_t port) {
  const int s = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  a.sin_port = htons(port);
  const bool ok = ::connect(s, reinterpret_cast<sockaddr*>(&a), sizeof(a)) == 0;
  ::close(s);
  return ok;
}

}  // namespace

std::optional<std::string> missing_mosquitto() {
  if (::access(kMosquitto, X_OK) != 0) {
    return std::string("needs ") + kMosquitto + " (Debian package mosquitto; scripts/deps)";
  }
  return std::nullopt;
}

void write_file(const std::string& path, const std::string& bytes) {
  std::ofstream(path, std::ios::binary | std::ios::trunc) << bytes;
}

std::unique_ptr<Broker> Broker::start() {
  std::unique_ptr<Broker> b(new Broker());
  // The broker drops root for its own user: let it write its persistence file here.
  if (::geteuid() == 0) {
    if (const passwd* pw = ::getpwnam("mosquitto")) {
      [[maybe_unused]] int rc = ::chown(b->dir_.path().c_str(), pw->pw_uid, pw->pw_gid);
    }
  }
  // A port free a moment ago may be taken by someone else's test by now: try a few.
  for (int attempt = 0; attempt < 5; ++attempt) {
    b->port_ = free_port();
    if (b->launch()) {
      return b;
    }
  }
  ADD_FAILURE() << "mosquitto did not start:\n" << b->log_text();
  return nullptr;
}

bool Broker::launch() {
  const std::string conf = dir_.file("mosquitto.conf");
  write_file(conf, fmt::format("listener {} 127.0.0.1\n"
                               "allow_anonymous true\n"
                               "persistence true\n"
                               "persistence_location {}/\n"
                               "autosave_interval 1\n"
                               "set_tcp_nodelay true\n",
                               port_, dir_.path()));
  pid_ = ::fork();
  if (pid_ == 0) {
    const int fd = ::open(dir_.file("mosquitto.log").c_str(), O_CREAT | O_WRONLY | O_APPEND, 0644);
    ::dup2(fd, 1);
    ::dup2(fd, 2);
    ::execl(kMosquitto, kMosquitto, "-c", conf.c_str(), static_cast<char*>(nullptr));
    ::_exit(127);
  }
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(5);
  while (std::chrono::steady_clock::now() < deadline) {
    if (port_accepts(port_)) {
      return true;
    }
    if (::waitpid(pid_, nullptr, WNOHANG) == pid_) {
      pid_ = -1;
      return false;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  stop(SIGKILL);
  return false;
}

Broker::~Broker() {
  if (pid_ > 0) {
    stop(SIGTERM);
  }
}

void Broker::stop(int sig) {
  if (pid_ <= 0) {
    return;
  }
  ::kill(pid_, sig);
  if (!wait_status(pid_, std::chrono::seconds(5))) {
    ::kill(pid_, SIGKILL);
    wait_status(pid_, std::chrono::seconds(5));
  }
  pid_ = -1;
}

bool Broker::restart() {
  for (int attempt = 0; attempt < 50; ++attempt) {
    if (launch()) {
      return true;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(100));  // the port is still closing
  }
  ADD_FAILURE() << "mosquitto did not restart on port " << port_ << ":\n" << log_text();
  return false;
}

std::string Broker::log_text() const {
  return read_file(dir_.file("mosquitto.log"));
}

RunResult cli(const std::vector<std::string>& args) {
  std::vector<std::string> argv = {cli_path()};
  argv.insert(argv.end(), args.begin(), args.end());
  return run(argv);
}

Signer::Signer(const std::string& name) : name_(name) {
  const RunResult r = cli({"bundle", "keygen", "--out", dir_.file(name)});
  EXPECT_EQ(r.code, 0) << r.out;
  // "key <id>: ..."
  key_id_ = r.out.substr(4, 16);
}

std::string Signer::sign(const std::string& group, uint64_t version, const std::string& toml,
                         const std::vector<std::string>& extra) {
  static int serial = 0;
  const std::string src = dir_.file(fmt::format("src-{}-{}-{}", group, version, ++serial));
  std::filesystem::create_directory(src);
  write_file(src + "/10-fleet.toml", toml);
  const std::string out = src + ".bundle";
  std::vector<std::string> args = {"bundle",  "sign", "--key",     secret_key(),
                                   "--group", group,  "--version", std::to_string(version),
                                   "--out",   out};
  args.insert(args.end(), extra.begin(), extra.end());
  args.push_back(src);
  const RunResult r = cli(args);
  if (r.code != 0) {
    ADD_FAILURE() << "cmdgate bundle sign failed: " << r.out;
    return "";
  }
  return out;
}

RunResult push(const Broker& broker, const std::string& group, const std::string& bundle) {
  return cli({"push", "--broker", broker.url(), "--group", group, bundle});
}

nlohmann::json fleet_status(const Broker& broker, const std::string& group) {
  std::vector<std::string> args = {"fleet",  "status",   "--broker", broker.url(),
                                   "--json", "--settle", "150ms"};
  if (!group.empty()) {
    args.push_back("--group");
    args.push_back(group);
  }
  const RunResult r = cli(args);
  if (r.code != 0 && r.code != 4) {
    return nullptr;
  }
  auto j = nlohmann::json::parse(r.out, nullptr, false);
  return j.is_discarded() ? nlohmann::json(nullptr) : j;
}

bool wait_fleet_on(const Broker& broker, const std::string& group, size_t hosts, uint64_t version,
                   std::chrono::milliseconds timeout) {
  return wait_for(
      [&] {
        const auto j = fleet_status(broker, group);
        if (j.is_null()) {
          return false;
        }
        size_t on = 0;
        for (const auto& h : j["hosts"]) {
          if (h["group"] == group && h["online"] == true && h["version"] == version) {
            ++on;
          }
        }
        return on == hosts && j["hosts"].size() == hosts;
      },
      timeout);
}

bool publish_raw(const Broker& broker, const std::string& topic, const std::string& payload) {
  fleet::MqttOptions o;
  o.broker = {false, "127.0.0.1", broker.port(), broker.url()};
  o.client_id = fmt::format("cmdgate-test-{}", ::getpid());
  int connack = -1;
  std::set<int> acked;
  auto client = fleet::MqttClient::create(o, {.on_connect = [&](int rc) { connack = rc; },
                                              .on_disconnect = nullptr,
                                              .on_message = nullptr,
                                              .on_publish = [&](int mid) { acked.insert(mid); },
                                              .on_subscribe = nullptr});
  if (!client || !client->connect_async()) {
    return false;
  }
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  while (connack < 0 && std::chrono::steady_clock::now() < deadline) {
    (void)client->loop(std::chrono::milliseconds(50));
  }
  if (connack != 0) {
    return false;
  }
  auto mid = client->publish(topic, payload, true);
  if (!mid) {
    return false;
  }
  while (!acked.contains(*mid) && std::chrono::steady_clock::now() < deadline) {
    (void)client->loop(std::chrono::milliseconds(50));
  }
  client->disconnect();
  (void)client->loop(std::chrono::milliseconds(50));
  return acked.contains(*mid);
}

FleetHost::FleetHost(const Broker& broker, Options options)
    : options_(std::move(options)), broker_url_(broker.url()) {
  const std::string trusted = dir_.file("trusted");
  std::filesystem::create_directory(trusted);
  ::chmod(trusted.c_str(), 0755);  // whatever the umask: agents refuse group-writable keys
  for (const auto& k : options_.trusted) {
    copy_file(k, trusted + "/" + std::filesystem::path(k).filename().string(), 0644);
  }
  std::string groups;
  for (const auto& g : options_.groups) {
    groups += fmt::format("{}\"{}\"", groups.empty() ? "" : ", ", g);
  }
  // Quick reconnects suit tests; extra_fleet may set these keys itself.
  std::string fleet = options_.extra_fleet;
  for (const auto& [key, value] :
       {std::pair{"reconnect_min", "100ms"}, {"reconnect_max", "1s"}, {"keepalive", "5s"}}) {
    if (fleet.find(key) == std::string::npos) {
      fleet += fmt::format("{} = \"{}\"\n", key, value);
    }
  }
  write_file(dir_.file("cmdgated.toml"),
             fmt::format("[fleet]\n"
                         "broker = \"{}\"\n"
                         "groups = [{}]\n"
                         "host_id = \"{}\"\n"
                         "trusted_keys = \"{}\"\n"
                         "state_dir = \"{}\"\n"
                         "{}",
                         broker_url_, groups, options_.host, trusted, state_dir(), fleet));
}

FleetHost::~FleetHost() {
  stop();
}

bool FleetHost::start() {
  if (agent_) {
    stop();
  }
  std::vector<std::string> args = {"--config", dir_.file("cmdgated.toml"), "--log-level", "debug"};
  if (options_.evaluation_only) {
    args.push_back("--evaluation-only");
  }
  agent_ = Agent::start(Agent::Options(options_.local_rules, args, options_.wait_ready));
  return agent_ != nullptr;
}

int FleetHost::stop() {
  if (!agent_) {
    return -1;
  }
  const int status = agent_->stop();
  previous_logs_ += agent_->log_text();
  agent_.reset();
  return status;
}

void FleetHost::kill9() {
  if (agent_ && agent_->running()) {
    // Not reaped here: the zombie keeps its pid until Agent::stop waits for it.
    ::kill(agent_->pid(), SIGKILL);
  }
}

std::string FleetHost::log_text() const {
  return previous_logs_ + (agent_ ? agent_->log_text() : "");
}

bool FleetHost::wait_log(const std::string& text, std::chrono::milliseconds timeout) const {
  return wait_for([&] { return log_text().find(text) != std::string::npos; }, timeout);
}

size_t FleetHost::count_log(const std::string& text) const {
  const std::string log = log_text();
  size_t n = 0;
  for (size_t pos = log.find(text); pos != std::string::npos; pos = log.find(text, pos + 1)) {
    ++n;
  }
  return n;
}

}  // namespace cmdgate::test
