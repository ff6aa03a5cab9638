// ApprovalServer: a decision held on its connection. Where [approval] authenticate asks for it,
// an allow waits until its approver has authenticated over the same connection, and a permanent
// one until the file it pins has been hashed. Each wait ends with the Decide handled again from
// the gate on: the request may have closed and the client may have moved meanwhile.

#include <spdlog/spdlog.h>

#include <algorithm>

#include "approval/approval_server.h"
#include "common/accounts.h"

namespace cmdgate {
namespace {

protocol::AuthStyle style_of(AuthItem::Kind k) {
  switch (k) {
    case AuthItem::Kind::kSecret:
      return protocol::AUTH_SECRET;
    case AuthItem::Kind::kVisible:
      return protocol::AUTH_VISIBLE;
    case AuthItem::Kind::kError:
      return protocol::AUTH_ERROR;
    case AuthItem::Kind::kInfo:
      return protocol::AUTH_INFO;
  }
  return protocol::AUTH_INFO;
}

// A hash that has not come back by then is given up: its file may sit on a FUSE mount whose
// server never answers.
constexpr auto kDigestGrace = std::chrono::seconds(2);

}  // namespace

void ApprovalServer::authenticate(Session& s, const protocol::ClientMessage& m,
                                  const Peer& approver) {
  const auto refuse = [&](const std::string& why) {
    ++stats_.refused_decisions;
    log_refused_approval(m.decide().id(), approver, why);
    fail(s, m.request_id(), "refused: " + why, false);
  };
  if (!auth_) {
    refuse("authentication is needed and not available");
    return;
  }
  if (!s.authenticates) {
    refuse("this approval needs its approver to authenticate, which this client cannot do");
    return;
  }
  // The account of the uid the kernel reports for the connection, whatever the client says.
  auto user = user_name_of(approver.uid);
  if (!user) {
    refuse(fmt::format("uid {} has no account to authenticate", approver.uid));
    return;
  }
  auto id = auth_->begin(approver.uid, *user);
  if (!id) {
    refuse(id.error().message);
    return;
  }
  s.held = Held{m, *id, *user, 0, {}};
  arm_timer();
}

void ApprovalServer::on_auth_prompt(uint64_t id, const std::vector<AuthItem>& items, bool answer) {
  Session* s = holding([id](const Held& h) { return h.auth_id == id; });
  if (s == nullptr) {
    return;
  }
  protocol::ServerMessage m;
  auto* p = m.mutable_auth_prompt();
  p->set_conversation(id);
  p->set_user(s->held->user);
  for (const AuthItem& i : items) {
    auto* msg = p->add_messages();
    msg->set_style(style_of(i.kind));
    msg->set_text(i.text);
  }
  p->set_answer(answer);
  p->set_timeout_ms(static_cast<uint32_t>(options_.auth.answer_timeout.count()));
  reply(*s, s->held->message.request_id(), std::move(m));
}

void ApprovalServer::handle_auth_answer(Session& s, uint64_t rid, const protocol::AuthAnswer& a) {
  if (!s.held || s.held->auth_id == 0 || s.held->auth_id != a.conversation()) {
    fail(s, rid, "no authentication on this connection waits for that answer", false);
    return;
  }
  if (a.cancel()) {
    auth_->cancel(s.held->auth_id);
    const Held h = std::move(*s.held);
    s.held.reset();
    ++stats_.refused_decisions;
    log_refused_approval(h.message.decide().id(), s.peer,
                         "its client cannot authenticate (no terminal?)");
    fail(s, h.message.request_id(), "refused: the approver did not authenticate", false);
    return;
  }
  std::vector<std::string> responses(a.responses().begin(), a.responses().end());
  if (!auth_->answer(a.conversation(), std::move(responses))) {
    fail(s, rid, "the authentication does not wait for an answer now", false);
  }
}

void ApprovalServer::on_auth_done(uint64_t id, const AuthVerdict& verdict) {
  Session* s = holding([id](const Held& h) { return h.auth_id == id; });
  if (s == nullptr) {
    return;
  }
  const Held h = std::move(*s->held);
  s->held.reset();
  if (!verdict.ok) {
    ++stats_.refused_decisions;
    spdlog::warn("refused approval of request {} by uid {} pid {}: {}", h.message.decide().id(),
                 s->peer.uid, s->peer.pid, verdict.message);
    fail(*s, h.message.request_id(), "refused: " + verdict.message, false);
    return;
  }
  s->authenticated_until = d_.clock.steady() + options_.authenticated_for;
  handle(*s, h.message);
}

void ApprovalServer::hash_for_permanent(Session& s, const protocol::ClientMessage& m,
                                        DigestSource file) {
  const uint64_t token = next_digest_token_++;
  const int fd = s.fd.get();
  const uint64_t serial = s.serial;
  auto shared = std::make_shared<DigestSource>(std::move(file));
  const bool started = digests_->run([this, file = std::move(shared), limits = options_.digest, fd,
                                      serial, token](const OffLoop::Post& post) {
    auto digest = read_digest(*file, limits);
    post([this, fd, serial, token, digest] { on_digest(fd, serial, token, digest); });
  });
  if (!started) {
    fail(s, m.request_id(),
         "too many files are being hashed for permanent approvals; try again shortly", false);
    return;
  }
  s.held = Held{m, 0, {}, token, d_.clock.steady() + options_.digest.max_time + kDigestGrace};
  arm_timer();
}

void ApprovalServer::on_digest(int fd, uint64_t serial, uint64_t token,
                               const Result<rules::Sha256>& digest) {
  auto it = sessions_.find(fd);
  if (it == sessions_.end() || it->second->serial != serial || !it->second->held ||
      it->second->held->digest_token != token) {
    return;
  }
  Session& s = *it->second;
  const Held h = std::move(*s.held);
  s.held.reset();
  if (!digest) {
    fail(s, h.message.request_id(),
         fmt::format("a permanent approval pins the file's SHA-256, which cannot be read: {}; "
                     "approve once or for a while instead",
                     digest.error().message),
         false);
    return;
  }
  s.digest = {h.message.decide().id(), *digest};
  handle(s, h.message);
}

ApprovalServer::Session* ApprovalServer::holding(const std::function<bool(const Held&)>& pred) {
  for (auto& [fd, s] : sessions_) {
    if (s->held && pred(*s->held)) {
      return s.get();
    }
  }
  return nullptr;
}

void ApprovalServer::arm_timer() {
  SteadyTime next = SteadyTime::max();
  if (auto a = auth_ ? auth_->next_deadline() : std::nullopt) {
    next = *a;
  }
  for (const auto& [fd, s] : sessions_) {
    if (s->held && s->held->digest_token != 0) {
      next = std::min(next, s->held->deadline);
    }
  }
  if (next == SteadyTime::max() || (timer_ != 0 && timer_at_ <= next)) {
    return;
  }
  if (timer_ != 0) {
    d_.loop.cancel(timer_);
  }
  timer_at_ = next;
  timer_ = d_.loop.at(next, [this] {
    timer_ = 0;
    on_timer();
  });
}

void ApprovalServer::on_timer() {
  if (auth_) {
    auth_->expire();  // a held decision gets its answer through on_auth_done
  }
  const SteadyTime now = d_.clock.steady();
  std::vector<int> late;
  for (const auto& [fd, s] : sessions_) {
    if (s->held && s->held->digest_token != 0 && s->held->deadline <= now) {
      late.push_back(fd);
    }
  }
  for (int fd : late) {
    auto it = sessions_.find(fd);
    if (it == sessions_.end() || !it->second->held) {
      continue;
    }
    const uint64_t rid = it->second->held->message.request_id();
    it->second->held.reset();
    fail(*it->second, rid,
         "a permanent approval pins the file's SHA-256, and it could not be read in time; "
         "approve once or for a while instead",
         false);
  }
  arm_timer();
}

}  // namespace cmdgate
