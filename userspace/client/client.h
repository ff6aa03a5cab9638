#pragma once
// A connection to the daemon's approval socket: hello/welcome, request/reply matched by
// request_id, and the pushes (approval requests, closed requests, events) that arrive between.

#include <chrono>
#include <deque>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "cmdgate.pb.h"
#include "common/fd.h"
#include "common/result.h"
#include "protocol/framing.h"

namespace cmdgate::client {

class Client {
 public:
  [[nodiscard]] static Result<std::unique_ptr<Client>> connect(
      const std::string& socket_path, std::string_view client_name,
      std::chrono::milliseconds timeout = std::chrono::seconds(5));

  [[nodiscard]] const protocol::Welcome& welcome() const { return welcome_; }

  // The person's answers to an authentication prompt (the daemon's PAM conversation), or an
  // error: the daemon is then told that none will come, and the call fails with it.
  using AuthAnswerer = std::function<Result<protocol::AuthAnswer>(const protocol::AuthPrompt&)>;

  // Sends message (its request_id is assigned here) and returns the reply to it. An Error reply
  // is returned as an error. Authentication prompts that come before the reply go to answerer;
  // without one the call fails when the daemon asks for authentication.
  [[nodiscard]] Result<protocol::ServerMessage> call(
      protocol::ClientMessage message,
      std::chrono::milliseconds timeout = std::chrono::seconds(10),
      const AuthAnswerer& answerer = nullptr);
  // The next push, waiting up to timeout (negative: forever); nullopt on timeout.
  [[nodiscard]] Result<std::optional<protocol::ServerMessage>> next_push(
      std::chrono::milliseconds timeout);
  // Readable when bytes wait; for poll() loops that also watch a terminal.
  [[nodiscard]] int fd() const { return fd_.get(); }
  // True when a push is already here: read along with an earlier reply, so poll() on fd() would
  // not report it.
  [[nodiscard]] bool has_buffered_push();
  // Messages that arrived whole but did not parse, and were skipped: one such message must not
  // end a session that serves every other request.
  [[nodiscard]] uint64_t unreadable() const { return unreadable_; }

 private:
  Client() = default;
  [[nodiscard]] Status send(const protocol::ClientMessage& message);
  // Answers (or declines) one authentication prompt of request request_id.
  [[nodiscard]] Status answer_prompt(uint64_t request_id, const protocol::AuthPrompt& prompt,
                                     const AuthAnswerer& answerer);
  // Reads until one whole message is available or the timeout passes.
  [[nodiscard]] Result<std::optional<protocol::ServerMessage>> receive(
      std::chrono::steady_clock::time_point deadline);
  // The next whole message already buffered; unreadable ones are counted and skipped.
  [[nodiscard]] Result<std::optional<protocol::ServerMessage>> buffered_message();

  Fd fd_;
  protocol::FrameDecoder decoder_;
  protocol::Welcome welcome_;
  std::deque<protocol::ServerMessage> pushes_;
  uint64_t next_request_ = 1;
  uint64_t unreadable_ = 0;
};

}  // namespace cmdgate::client
