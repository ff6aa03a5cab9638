#include "approval/approval_server.h"

#include <fcntl.h>
#include <spdlog/spdlog.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <cstring>
#include <filesystem>

#include "approval/messages.h"
#include "approval/pam_backend.h"
#include "common/accounts.h"
#include "common/errno_error.h"

namespace cmdgate {
namespace {

// Reads more than this per wakeup only on the next wakeup: a flooding client cannot starve
// the others or the ring buffer.
constexpr size_t kReadBudget = 256u << 10;

}  // namespace

Result<std::unique_ptr<ApprovalServer>> ApprovalServer::start(ApprovalOptions options,
                                                              ApprovalDeps deps) {
  std::unique_ptr<ApprovalServer> s(new ApprovalServer(std::move(options), deps));
  if (!s->approver_gid_) {
    spdlog::warn("approver group '{}' does not exist: only root may approve",
                 s->options_.approver_group);
  }
  if (auto st = s->listen(); !st) {
    return st.error();
  }
  ApprovalServer* self = s.get();
  if (s->options_.authenticate != AuthenticateWhen::kNever) {
    auto backend = s->options_.auth_backend ? s->options_.auth_backend : pam_backend();
    auto auth = AuthService::start(
        s->options_.auth, std::move(backend), deps.clock,
        {[self](uint64_t id, const std::vector<AuthItem>& items, bool answer) {
           self->on_auth_prompt(id, items, answer);
         },
         [self](uint64_t id, const AuthVerdict& v) { self->on_auth_done(id, v); }});
    if (!auth) {
      return auth.error();
    }
    s->auth_ = std::move(*auth);
    if (auto st = deps.loop.watch(s->auth_->fd(), [self] { self->auth_->drain(); }); !st) {
      return st.error();
    }
  }
  auto digests = OffLoop::create(s->options_.max_digest_threads);
  if (!digests) {
    return digests.error();
  }
  s->digests_ = std::move(*digests);
  if (auto st = deps.loop.watch(s->digests_->fd(), [self] { self->digests_->drain(); }); !st) {
    return st.error();
  }
  spdlog::info("approvals: authenticate = \"{}\"", to_string(s->options_.authenticate));
  return s;
}

ApprovalServer::ApprovalServer(ApprovalOptions options, ApprovalDeps deps)
    : options_(std::move(options)),
      d_(deps),
      approver_gid_(gid_of(options_.approver_group)),
      gate_({d_.proc, d_.kernel, d_.pipeline.pending()}, approver_gid_, options_.authenticate),
      decisions_({options_.local_rules_file, options_.max_grant_minutes},
                 {d_.pipeline, d_.policy, d_.clock, d_.proc}) {}

ApprovalServer::~ApprovalServer() {
  if (listener_) {
    d_.loop.unwatch(listener_.get());
    ::unlink(options_.socket_path.c_str());
  }
  for (auto& [fd, session] : sessions_) {
    d_.loop.unwatch(fd);
  }
  if (auth_) {
    d_.loop.unwatch(auth_->fd());
  }
  if (digests_) {
    d_.loop.unwatch(digests_->fd());
  }
  if (timer_ != 0) {
    d_.loop.cancel(timer_);
  }
}

Status ApprovalServer::listen() {
  const std::filesystem::path dir = std::filesystem::path(options_.socket_path).parent_path();
  std::error_code ec;
  if (!dir.empty()) {
    std::filesystem::create_directories(dir, ec);
  }
  listener_.reset(::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0));
  if (!listener_) {
    return errno_error("socket");
  }
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  if (options_.socket_path.size() >= sizeof(addr.sun_path)) {
    return Error::format("socket path {} is too long", options_.socket_path);
  }
  std::memcpy(addr.sun_path, options_.socket_path.c_str(), options_.socket_path.size() + 1);
  ::unlink(options_.socket_path.c_str());  // a stale socket of an earlier run
  // Created with no permissions at all, opened up only once owner and mode are right.
  const mode_t old_umask = ::umask(0777);
  const int rc = ::bind(listener_.get(), reinterpret_cast<sockaddr*>(&addr), sizeof(addr));
  ::umask(old_umask);
  if (rc != 0) {
    return errno_error("binding " + options_.socket_path);
  }
  if (::chown(options_.socket_path.c_str(), 0, approver_gid_.value_or(0)) != 0 ||
      ::chmod(options_.socket_path.c_str(), options_.socket_mode) != 0) {
    return errno_error("setting owner and mode of " + options_.socket_path);
  }
  if (::listen(listener_.get(), 64) != 0) {
    return errno_error("listen");
  }
  return d_.loop.watch(listener_.get(), [this] { accept_clients(); });
}

void ApprovalServer::accept_clients() {
  for (;;) {
    Fd fd(::accept4(listener_.get(), nullptr, nullptr, SOCK_CLOEXEC | SOCK_NONBLOCK));
    if (!fd) {
      return;  // EAGAIN, or a client that gave up
    }
    if (sessions_.size() >= options_.max_clients) {
      spdlog::warn("approval socket: refusing a client, {} are connected", sessions_.size());
      continue;
    }
    auto peer = identify_peer(fd.get(), d_.proc, d_.kernel);
    if (!peer) {
      spdlog::warn("approval socket: {}", peer.error().message);
      continue;
    }
    auto s = std::make_unique<Session>();
    s->serial = ++serial_;
    s->peer = std::move(*peer);
    s->approver = gate_.is_approver(s->peer);
    const int raw = fd.get();
    s->fd = std::move(fd);
    if (!d_.loop.watch_events(raw, EPOLLIN, [this, raw](uint32_t ev) { on_events(raw, ev); })) {
      continue;
    }
    ++stats_.connections;
    spdlog::debug("approval socket: client pid {} uid {} ({}) connected", s->peer.pid,
                  s->peer.uid, s->approver ? "approver" : "not an approver");
    sessions_.emplace(raw, std::move(s));
  }
}

void ApprovalServer::on_events(int fd, uint32_t events) {
  auto it = sessions_.find(fd);
  if (it == sessions_.end()) {
    return;
  }
  Session& s = *it->second;
  if (events & EPOLLOUT) {
    flush(s);
  }
  if ((events & (EPOLLIN | EPOLLHUP | EPOLLERR)) && sessions_.contains(fd)) {
    read_from(s);
  }
}

void ApprovalServer::read_from(Session& s) {
  const int fd = s.fd.get();
  char buf[65536];
  size_t budget = kReadBudget;
  while (budget > 0) {
    const ssize_t n = ::recv(fd, buf, sizeof(buf), 0);
    if (n == 0) {
      drop(fd, "closed by the client");
      return;
    }
    if (n < 0) {
      if (errno == EINTR) {
        continue;
      }
      if (errno != EAGAIN) {
        drop(fd, std::strerror(errno));
        return;
      }
      break;
    }
    budget -= std::min(budget, static_cast<size_t>(n));
    if (s.closing) {
      continue;  // a connection being closed is not listened to any more
    }
    s.decoder.feed(std::string_view(buf, static_cast<size_t>(n)));
    for (;;) {
      auto frame = s.decoder.next();
      if (!frame) {
        ++stats_.protocol_errors;
        fail(s, 0, frame.error().message, true);
        return;
      }
      if (!*frame) {
        break;
      }
      protocol::ClientMessage m;
      if (!m.ParseFromString(**frame)) {
        ++stats_.protocol_errors;
        fail(s, 0, "message does not parse as a ClientMessage", true);
        return;
      }
      handle(s, m);
      if (!sessions_.contains(fd) || s.closing) {
        return;
      }
    }
  }
}

void ApprovalServer::handle(Session& s, const protocol::ClientMessage& m) {
  const uint64_t rid = m.request_id();
  if (!s.greeted && m.body_case() != protocol::ClientMessage::kHello) {
    ++stats_.protocol_errors;
    fail(s, rid, "the first message must be hello", true);
    return;
  }
  if (m.body_case() == protocol::ClientMessage::kDecide && s.held) {
    fail(s, rid, "a decision on this connection is still waiting for authentication", false);
    return;
  }
  const bool authenticated = s.authenticated_until && d_.clock.steady() < *s.authenticated_until;
  const Admission admitted = gate_.admit({s.fd.get(), s.approver, authenticated}, m);
  if (admitted.refusal) {
    if (admitted.refused_decision) {
      ++stats_.refused_decisions;
    }
    fail(s, rid, *admitted.refusal, false);
    return;
  }
  switch (m.body_case()) {
    case protocol::ClientMessage::kHello: {
      if (m.hello().protocol_version() != protocol::kProtocolVersion) {
        ++stats_.protocol_errors;
        fail(s, rid,
             fmt::format("protocol version {} is not spoken here (this daemon speaks {})",
                         m.hello().protocol_version(), protocol::kProtocolVersion),
             true);
        return;
      }
      s.greeted = true;
      s.authenticates = m.hello().authenticates();
      protocol::ServerMessage r;
      r.mutable_welcome()->set_protocol_version(protocol::kProtocolVersion);
      r.mutable_welcome()->set_daemon("cmdgated");
      r.mutable_welcome()->set_approver(s.approver);
      reply(s, rid, std::move(r));
      return;
    }
    case protocol::ClientMessage::kSubscribe: {
      s.approvals = m.subscribe().approvals();
      s.events = m.subscribe().events();
      protocol::ServerMessage r;
      r.mutable_ack();
      reply(s, rid, std::move(r));
      return;
    }
    case protocol::ClientMessage::kListPending: {
      protocol::ServerMessage r;
      *r.mutable_pending() = to_pending_list(d_.pipeline.pending().list());
      reply(s, rid, std::move(r));
      return;
    }
    case protocol::ClientMessage::kDecide:
      handle_decide(s, m, admitted);
      return;
    case protocol::ClientMessage::kAuthAnswer:
      handle_auth_answer(s, rid, m.auth_answer());
      return;
    case protocol::ClientMessage::kStatus: {
      protocol::ServerMessage r;
      *r.mutable_status() = d_.status();
      reply(s, rid, std::move(r));
      return;
    }
    case protocol::ClientMessage::kReload: {
      // The reload runs in the background; the answer goes to this connection if it is still
      // the same one when it completes.
      const int fd = s.fd.get();
      const uint64_t serial = s.serial;
      d_.policy.reload(fmt::format("requested by uid {} (pid {})", s.peer.uid, s.peer.pid),
                       [this, fd, serial, rid](const Status& st) {
                         auto it = sessions_.find(fd);
                         if (it == sessions_.end() || it->second->serial != serial) {
                           return;
                         }
                         protocol::ServerMessage r;
                         r.mutable_reloaded()->set_ok(st.ok());
                         if (!st) {
                           r.mutable_reloaded()->set_error(st.error().message);
                         }
                         r.mutable_reloaded()->set_generation(
                             d_.policy.store().current()->generation);
                         reply(*it->second, rid, std::move(r));
                       });
      return;
    }
    case protocol::ClientMessage::BODY_NOT_SET:
      ++stats_.protocol_errors;
      fail(s, rid, "unknown or empty message type", true);
      return;
  }
}

void ApprovalServer::handle_decide(Session& s, const protocol::ClientMessage& m,
                                   const Admission& admitted) {
  const uint64_t rid = m.request_id();
  const protocol::Decide& d = m.decide();
  DecideRequest request{.id = d.id(),
                        .verdict = d.verdict(),
                        .scope = d.scope(),
                        .minutes = d.minutes(),
                        .approver = {s.peer.uid, s.peer.pid, s.peer.exe}};
  if (s.digest && s.digest->first == d.id()) {
    request.hashed = s.digest->second;
  }
  if (admitted.authenticate) {
    // What can be checked before anyone types a password is checked first.
    if (auto st = decisions_.check(request); !st) {
      fail(s, rid, st.error().message, false);
      return;
    }
    authenticate(s, m, *admitted.approver);
    return;
  }
  DecideAnswer answer = decisions_.decide(request);
  if (const Error* e = std::get_if<Error>(&answer)) {
    fail(s, rid, e->message, false);
    return;
  }
  if (NeedsDigest* n = std::get_if<NeedsDigest>(&answer)) {
    hash_for_permanent(s, m, std::move(n->file));
    return;
  }
  Decided& decided = std::get<Decided>(answer);
  s.digest.reset();
  protocol::ServerMessage r;
  r.mutable_decided()->set_id(decided.id);
  r.mutable_decided()->set_outcome(std::string(to_string(decided.outcome)));
  *r.mutable_decided()->mutable_request() = std::move(decided.request);
  reply(s, rid, std::move(r));
}

}  // namespace cmdgate
