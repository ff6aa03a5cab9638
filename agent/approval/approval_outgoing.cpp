// ApprovalServer: what goes out to clients. Replies and errors to one connection, requests and
// decision events to every subscriber, each through the connection's bounded queue.

#include <spdlog/spdlog.h>
#include <sys/epoll.h>
#include <sys/socket.h>

#include <cstring>

#include "approval/approval_server.h"
#include "approval/messages.h"

namespace cmdgate {
namespace {

protocol::ServerMessage with_error(uint64_t request_id, const std::string& message, bool fatal) {
  protocol::ServerMessage m;
  m.set_request_id(request_id);
  m.mutable_error()->set_message(message);
  m.mutable_error()->set_fatal(fatal);
  return m;
}

}  // namespace

void ApprovalServer::reply(Session& s, uint64_t request_id, protocol::ServerMessage m) {
  m.set_request_id(request_id);
  enqueue(s, m, false);
}

void ApprovalServer::fail(Session& s, uint64_t request_id, const std::string& message, bool fatal) {
  const int fd = s.fd.get();
  if (fatal) {
    spdlog::debug("approval socket: closing client pid {}: {}", s.peer.pid, message);
    s.closing = true;  // before queueing: the flush that sends the error then closes
    ::shutdown(fd, SHUT_RD);
  }
  enqueue(s, with_error(request_id, message, fatal), false);  // may drop the session
}

void ApprovalServer::enqueue(Session& s, const protocol::ServerMessage& m, bool droppable) {
  std::string frame = protocol::encode_frame(m);
  if (s.out_bytes + frame.size() > options_.max_queue_bytes) {
    if (droppable) {
      ++s.dropped;
      ++stats_.events_dropped;
      return;
    }
    ++stats_.slow_disconnects;
    drop(s.fd.get(), "too slow to read what it asked for");
    return;
  }
  s.out_bytes += frame.size();
  s.out.push_back(std::move(frame));
  flush(s);
}

void ApprovalServer::flush(Session& s) {
  const int fd = s.fd.get();
  while (!s.out.empty()) {
    const std::string& f = s.out.front();
    const ssize_t n =
        ::send(fd, f.data() + s.out_offset, f.size() - s.out_offset, MSG_NOSIGNAL | MSG_DONTWAIT);
    if (n < 0) {
      if (errno == EAGAIN || errno == EINTR) {
        d_.loop.modify(fd, EPOLLIN | EPOLLOUT);
        return;
      }
      drop(fd, std::strerror(errno));
      return;
    }
    s.out_offset += static_cast<size_t>(n);
    if (s.out_offset == f.size()) {
      s.out_bytes -= f.size();
      s.out.pop_front();
      s.out_offset = 0;
    }
  }
  if (s.closing) {
    drop(fd, "closed after an error");
    return;
  }
  d_.loop.modify(fd, EPOLLIN);
}

void ApprovalServer::drop(int fd, std::string_view why) {
  auto it = sessions_.find(fd);
  if (it == sessions_.end()) {
    return;
  }
  spdlog::debug("approval socket: client pid {} gone: {}", it->second->peer.pid, why);
  if (const auto& held = it->second->held; held && held->auth_id != 0) {
    auth_->cancel(held->auth_id);
  }
  d_.loop.unwatch(fd);
  sessions_.erase(it);
}

void ApprovalServer::broadcast(const protocol::ServerMessage& m, bool to_approvals,
                               bool droppable) {
  std::vector<int> fds;
  for (const auto& [fd, s] : sessions_) {
    if (s->greeted && !s->closing && (to_approvals ? s->approvals : s->events)) {
      fds.push_back(fd);
    }
  }
  for (int fd : fds) {
    auto it = sessions_.find(fd);
    if (it != sessions_.end()) {
      enqueue(*it->second, m, droppable);
    }
  }
}

void ApprovalServer::on_parked(const PendingRequest& r) {
  protocol::ServerMessage m;
  *m.mutable_request() = to_request(r);
  broadcast(m, true, false);
}

void ApprovalServer::on_closed(const PendingRequest& r, Outcome outcome, DecidedBy by,
                               const ApproverInfo* approver) {
  protocol::ServerMessage m;
  auto* c = m.mutable_closed();
  c->set_id(r.id);
  c->set_outcome(std::string(to_string(outcome)));
  c->set_decided_by(std::string(to_string(by)));
  if (approver != nullptr) {
    c->set_approver_uid(approver->uid);
    c->set_approver_pid(approver->pid);
  }
  broadcast(m, true, false);
}

void ApprovalServer::on_decision(const DecisionRecord& record) {
  bool anyone = false;
  for (const auto& [fd, s] : sessions_) {
    anyone = anyone || s->events;
  }
  if (!anyone) {
    return;
  }
  protocol::ServerMessage m;
  *m.mutable_event() = to_event(record);
  broadcast(m, false, true);
}

bool ApprovalServer::approvers_listening() const {
  for (const auto& [fd, s] : sessions_) {
    if (s->approvals && !s->closing) {
      return true;
    }
  }
  return false;
}

}  // namespace cmdgate
