// ApprovalServer: deciding a request. An allow is checked (approver, tree, scope), then, where
// [approval] authenticate asks for it, held until its approver has authenticated over the same
// connection, and for a permanent approval until the file it pins has been hashed. Each wait
// ends back in handle_decide, which checks everything again: the request may have closed and
// the client may have moved meanwhile.

#include <spdlog/spdlog.h>
#include <sys/socket.h>

#include <algorithm>

#include "approval/approval_digest.h"
#include "approval/approval_server.h"
#include "approval/approver_check.h"
#include "approval/local_rules.h"
#include "approval/messages.h"
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

std::string hex(const rules::Sha256& d) {
  std::string out;
  for (unsigned char c : d) {
    out += fmt::format("{:02x}", c);
  }
  return out;
}

// A hash that has not come back by then is given up: its file may sit on a FUSE mount whose
// server never answers.
constexpr auto kDigestGrace = std::chrono::seconds(2);

}  // namespace

void ApprovalServer::handle_decide(Session& s, uint64_t rid, const protocol::Decide& d) {
  if (!s.approver) {
    ++stats_.refused_decisions;
    fail(s, rid, "only root and members of the approver group may decide", false);
    return;
  }
  if (s.held) {
    fail(s, rid, "a decision on this connection is still waiting for authentication", false);
    return;
  }
  if (d.verdict() != protocol::VERDICT_ALLOW && d.verdict() != protocol::VERDICT_DENY) {
    fail(s, rid, "decide needs a verdict: allow or deny", false);
    return;
  }
  const PendingRequest* p = d_.pipeline.pending().find(d.id());
  if (p == nullptr) {
    fail(s, rid, fmt::format("request {} is not pending (decided, timed out or gone)", d.id()),
         false);
    return;
  }
  const bool allow = d.verdict() == protocol::VERDICT_ALLOW;
  const protocol::Scope scope =
      d.scope() == protocol::SCOPE_UNSPECIFIED ? protocol::SCOPE_ONCE : d.scope();
  if (allow) {
    // Identity again, now: the client may have moved (setsid, reparenting) since it connected.
    auto now = identify_peer(s.fd.get(), d_.proc, d_.kernel);
    if (!now) {
      fail(s, rid, now.error().message, false);
      return;
    }
    if (auto why = inside_tree(requester_tree(p->event), *now)) {
      ++stats_.refused_decisions;
      spdlog::warn("refused approval of request {} by uid {} pid {} ({}): {}", d.id(), now->uid,
                   now->pid, now->exe, *why);
      fail(s, rid, "refused: " + *why + "; a process may not approve its own request", false);
      return;
    }
    // What can be checked before anyone types a password is checked first.
    if (scope == protocol::SCOPE_SIMILAR &&
        (d.minutes() == 0 || d.minutes() > options_.max_grant_minutes)) {
      fail(s, rid, fmt::format("minutes must be 1..{}", options_.max_grant_minutes), false);
      return;
    }
    if (scope == protocol::SCOPE_PERMANENT &&
        (options_.local_rules_file.empty() ||
         !covered_by_rule_paths(options_.local_rules_file, d_.policy.store().rule_paths()))) {
      fail(s, rid,
           "permanent approvals need [approval] local_rules_file set to a file the daemon loads "
           "rules from",
           false);
      return;
    }
    const bool current = s.authenticated_until && d_.clock.steady() < *s.authenticated_until;
    if (must_authenticate(options_.authenticate, now->uid, p->event.uid) && !current) {
      authenticate(s, rid, d, *now);
      return;
    }
  }
  std::optional<rules::Sha256> digest;
  if (allow && scope == protocol::SCOPE_PERMANENT) {
    digest = known_digest(*p);
    if (!digest && s.digest && s.digest->first == p->id) {
      digest = s.digest->second;
    }
    if (!digest) {
      hash_for_permanent(s, rid, d, *p);
      return;
    }
  }
  if (allow && scope == protocol::SCOPE_SIMILAR) {
    auto granted =
        d_.pipeline.grants().add(*p, d_.clock.steady() + std::chrono::minutes(d.minutes()));
    if (!granted) {
      fail(s, rid,
           fmt::format("a 'similar' approval needs the exact command, and {}: approve once",
                       granted.error().message),
           false);
      return;
    }
  }
  if (allow && scope == protocol::SCOPE_PERMANENT) {
    PermanentApproval a;
    a.exe = permanent_path(*p);
    a.sha256 = hex(*digest);
    a.uid = p->event.uid;
    a.argv = p->argv;
    a.request_id = p->id;
    a.approved_by = fmt::format("approved permanently by uid {} (pid {}, {})", s.peer.uid,
                                s.peer.pid, s.peer.exe);
    auto id = append_permanent_approval(options_.local_rules_file, a);
    if (!id) {
      fail(s, rid, id.error().message, false);
      return;
    }
    spdlog::info("request {}: wrote rule {} to {}", p->id, *id, options_.local_rules_file);
  }
  // Taken before the decision removes the request: the approver's confirmation shows it.
  protocol::ApprovalRequest decided = to_request(*p);
  const ApproverInfo who{s.peer.uid, s.peer.pid, s.peer.exe};
  auto outcome = d_.pipeline.decide(d.id(), allow, who);
  if (!outcome) {
    fail(s, rid, outcome.error().message, false);
    return;
  }
  if (allow && scope == protocol::SCOPE_PERMANENT) {
    d_.policy.reload("a permanent approval was written");
  }
  s.digest.reset();
  protocol::ServerMessage r;
  r.mutable_decided()->set_id(d.id());
  r.mutable_decided()->set_outcome(std::string(to_string(*outcome)));
  *r.mutable_decided()->mutable_request() = std::move(decided);
  reply(s, rid, std::move(r));
}

void ApprovalServer::authenticate(Session& s, uint64_t rid, const protocol::Decide& d,
                                  const Peer& approver) {
  const auto refuse = [&](const std::string& why) {
    ++stats_.refused_decisions;
    spdlog::warn("refused approval of request {} by uid {} pid {} ({}): {}", d.id(), approver.uid,
                 approver.pid, approver.exe, why);
    fail(s, rid, "refused: " + why, false);
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
  s.held = Held{rid, d, *id, *user, 0, {}};
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
  reply(*s, s->held->rid, std::move(m));
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
    spdlog::warn("refused approval of request {} by uid {} pid {} ({}): its client cannot "
                 "authenticate (no terminal?)",
                 h.decide.id(), s.peer.uid, s.peer.pid, s.peer.exe);
    fail(s, h.rid, "refused: the approver did not authenticate", false);
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
    spdlog::warn("refused approval of request {} by uid {} pid {}: {}", h.decide.id(), s->peer.uid,
                 s->peer.pid, verdict.message);
    fail(*s, h.rid, "refused: " + verdict.message, false);
    return;
  }
  s->authenticated_until = d_.clock.steady() + options_.authenticated_for;
  handle_decide(*s, h.rid, h.decide);
}

void ApprovalServer::hash_for_permanent(Session& s, uint64_t rid, const protocol::Decide& d,
                                        const PendingRequest& p) {
  auto source = digest_source(p, paths_);
  if (!source) {
    fail(s, rid,
         fmt::format("a permanent approval pins the SHA-256 of {}, which cannot be read: {}; "
                     "approve once or for a while instead",
                     permanent_path(p), source.error().message),
         false);
    return;
  }
  const uint64_t token = next_digest_token_++;
  const int fd = s.fd.get();
  const uint64_t serial = s.serial;
  auto file = std::make_shared<DigestSource>(std::move(*source));
  const bool started = digests_->run(
      [this, file, limits = options_.digest, fd, serial, token](const OffLoop::Post& post) {
        auto digest = read_digest(*file, limits);
        post([this, fd, serial, token, digest] { on_digest(fd, serial, token, digest); });
      });
  if (!started) {
    fail(s, rid, "too many files are being hashed for permanent approvals; try again shortly",
         false);
    return;
  }
  s.held = Held{rid, d, 0, {}, token, d_.clock.steady() + options_.digest.max_time + kDigestGrace};
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
    fail(s, h.rid,
         fmt::format("a permanent approval pins the file's SHA-256, which cannot be read: {}; "
                     "approve once or for a while instead",
                     digest.error().message),
         false);
    return;
  }
  s.digest = {h.decide.id(), *digest};
  handle_decide(s, h.rid, h.decide);
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
    const uint64_t rid = it->second->held->rid;
    it->second->held.reset();
    fail(*it->second, rid,
         "a permanent approval pins the file's SHA-256, and it could not be read in time; "
         "approve once or for a while instead",
         false);
  }
  arm_timer();
}

}  // namespace cmdgate
