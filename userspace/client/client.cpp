#include "client/client.h"

#include <poll.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <algorithm>
#include <cstring>

#include "common/errno_error.h"

namespace cmdgate::client {

using Clock = std::chrono::steady_clock;

Result<std::unique_ptr<Client>> Client::connect(const std::string& socket_path,
                                                std::string_view client_name,
                                                std::chrono::milliseconds timeout) {
  std::unique_ptr<Client> c(new Client());
  c->fd_.reset(::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0));
  if (!c->fd_) {
    return errno_error("socket");
  }
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  if (socket_path.size() >= sizeof(addr.sun_path)) {
    return Error::format("socket path {} is too long", socket_path);
  }
  std::memcpy(addr.sun_path, socket_path.c_str(), socket_path.size() + 1);
  if (::connect(c->fd_.get(), reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0) {
    return errno_error("connecting to " + socket_path + " (is cmdgated running?)");
  }
  protocol::ClientMessage hello;
  hello.mutable_hello()->set_protocol_version(protocol::kProtocolVersion);
  hello.mutable_hello()->set_client(std::string(client_name));
  // Every call can take authentication prompts: answered through its answerer, or declined.
  hello.mutable_hello()->set_authenticates(true);
  auto reply = c->call(std::move(hello), timeout);
  if (!reply) {
    return reply.error();
  }
  if (!reply->has_welcome()) {
    return Error{"the daemon did not answer hello with welcome"};
  }
  c->welcome_ = reply->welcome();
  return c;
}

Status Client::send(const protocol::ClientMessage& message) {
  const std::string frame = protocol::encode_frame(message);
  size_t off = 0;
  while (off < frame.size()) {
    const ssize_t n = ::send(fd_.get(), frame.data() + off, frame.size() - off, MSG_NOSIGNAL);
    if (n < 0) {
      if (errno == EINTR) {
        continue;
      }
      return errno_error("sending to cmdgated");
    }
    off += static_cast<size_t>(n);
  }
  return {};
}

Result<std::optional<protocol::ServerMessage>> Client::buffered_message() {
  for (;;) {
    auto frame = decoder_.next();
    if (!frame) {
      return frame.error();
    }
    if (!*frame) {
      return std::optional<protocol::ServerMessage>();
    }
    protocol::ServerMessage m;
    if (m.ParseFromString(**frame)) {
      return std::optional(std::move(m));
    }
    ++unreadable_;  // the framing still holds, so the messages after it are read as usual
  }
}

Result<std::optional<protocol::ServerMessage>> Client::receive(Clock::time_point deadline) {
  char buf[65536];
  for (;;) {
    auto m = buffered_message();
    if (!m || *m) {
      return m;
    }
    int wait_ms = -1;
    if (deadline != Clock::time_point::max()) {
      const auto left =
          std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now()).count();
      wait_ms = static_cast<int>(std::max<int64_t>(left, 0));  // 0: look without waiting
    }
    pollfd pfd{fd_.get(), POLLIN, 0};
    const int r = ::poll(&pfd, 1, wait_ms);
    if (r < 0 && errno != EINTR) {
      return errno_error("poll");
    }
    if (r == 0) {
      return std::optional<protocol::ServerMessage>();  // the deadline passed with nothing new
    }
    if (r < 0) {
      continue;
    }
    const ssize_t n = ::recv(fd_.get(), buf, sizeof(buf), 0);
    if (n == 0) {
      return Error{"cmdgated closed the connection"};
    }
    if (n < 0) {
      if (errno == EINTR || errno == EAGAIN) {
        continue;
      }
      return errno_error("reading from cmdgated");
    }
    decoder_.feed(std::string_view(buf, static_cast<size_t>(n)));
  }
}

Result<protocol::ServerMessage> Client::call(protocol::ClientMessage message,
                                             std::chrono::milliseconds timeout,
                                             const AuthAnswerer& answerer) {
  const uint64_t id = next_request_++;
  message.set_request_id(id);
  if (auto s = send(message); !s) {
    return s.error();
  }
  auto deadline = Clock::now() + timeout;
  for (;;) {
    auto m = receive(deadline);
    if (!m) {
      return m.error();
    }
    if (!*m) {
      return unreadable_ == 0 ? Error{"timed out waiting for cmdgated"}
                              : Error::format(
                                    "timed out waiting for cmdgated ({} unreadable "
                                    "message(s) skipped)",
                                    unreadable_);
    }
    if ((*m)->request_id() != id) {
      if ((*m)->has_error() && (*m)->error().fatal()) {
        return Error{(*m)->error().message()};
      }
      pushes_.push_back(std::move(**m));
      continue;
    }
    if ((*m)->has_error()) {
      return Error{(*m)->error().message()};
    }
    if ((*m)->has_auth_prompt()) {
      const protocol::AuthPrompt& prompt = (*m)->auth_prompt();
      if (auto st = answer_prompt(id, prompt, answerer); !st) {
        return st.error();
      }
      // What follows an answer waits on PAM (a failed attempt is delayed on purpose), not on
      // the daemon's event loop.
      deadline = Clock::now() +
                 std::max<std::chrono::milliseconds>(
                     timeout, std::chrono::milliseconds(prompt.timeout_ms()));
      continue;
    }
    return std::move(**m);
  }
}

Status Client::answer_prompt(uint64_t request_id, const protocol::AuthPrompt& prompt,
                             const AuthAnswerer& answerer) {
  auto answer = answerer ? answerer(prompt)
                         : Result<protocol::AuthAnswer>(Error{
                               "cmdgated asks the approver to authenticate, and this command "
                               "cannot ask for a password"});
  if (!answer && !prompt.answer()) {
    return answer.error();
  }
  if (!answer || prompt.answer()) {
    protocol::ClientMessage m;
    m.set_request_id(request_id);
    auto* a = m.mutable_auth_answer();
    if (answer) {
      *a = std::move(*answer);
    } else {
      a->set_cancel(true);
    }
    a->set_conversation(prompt.conversation());
    const Status sent = send(m);
    for (auto& r : *a->mutable_responses()) {
      ::explicit_bzero(r.data(), r.size());  // the secret, gone before the memory is reused
    }
    if (!sent) {
      return sent.error();
    }
  }
  if (!answer) {
    return answer.error();
  }
  return {};
}

bool Client::has_buffered_push() {
  if (!pushes_.empty()) {
    return true;
  }
  auto m = buffered_message();
  if (!m) {
    return true;  // for next_push to report: poll() would not wake up for it
  }
  if (*m) {
    pushes_.push_back(std::move(**m));
  }
  return !pushes_.empty();
}

Result<std::optional<protocol::ServerMessage>> Client::next_push(
    std::chrono::milliseconds timeout) {
  if (!pushes_.empty()) {
    protocol::ServerMessage m = std::move(pushes_.front());
    pushes_.pop_front();
    return std::optional(std::move(m));
  }
  const auto deadline =
      timeout.count() < 0 ? Clock::time_point::max() : Clock::now() + timeout;
  return receive(deadline);
}

}  // namespace cmdgate::client
