// The client against a scripted daemon: one message it cannot read must not end a session that
// serves every other request.

#include "client/client.h"

#include <gtest/gtest.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cstdlib>
#include <cstring>
#include <string>
#include <thread>

namespace cmdgate::client {
namespace {

using namespace std::chrono_literals;

// A frame that is whole but does not parse: field 5 claims five bytes and has two.
const std::string kUnreadable = std::string(
    "\x00\x00\x00\x04\x2a\x05"
    "ab",
    8);

std::string frame(const protocol::ServerMessage& m) {
  return protocol::encode_frame(m);
}

class FakeDaemon {
 public:
  FakeDaemon() {
    char dir[] = "/tmp/cmdgate-client-test.XXXXXX";
    dir_ = ::mkdtemp(dir);
    path_ = dir_ + "/sock";
    listener_.reset(::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0));
    sockaddr_un addr{};
    addr.sun_family = AF_UNIX;
    std::strcpy(addr.sun_path, path_.c_str());
    EXPECT_EQ(::bind(listener_.get(), reinterpret_cast<sockaddr*>(&addr), sizeof(addr)), 0);
    EXPECT_EQ(::listen(listener_.get(), 1), 0);
  }
  ~FakeDaemon() {
    ::unlink(path_.c_str());
    ::rmdir(dir_.c_str());
  }
  const std::string& path() const { return path_; }

  // Accepts the client and answers its hello (request 1) with a welcome, and `after` in the
  // same write.
  void accept_and_welcome(const std::string& after = "") {
    conn_.reset(::accept4(listener_.get(), nullptr, nullptr, SOCK_CLOEXEC));
    ASSERT_TRUE(conn_);
    const protocol::ClientMessage hello = read_request();
    ASSERT_EQ(hello.body_case(), protocol::ClientMessage::kHello);
    EXPECT_TRUE(hello.hello().authenticates());
    protocol::ServerMessage w;
    w.set_request_id(1);
    w.mutable_welcome()->set_protocol_version(protocol::kProtocolVersion);
    send(frame(w) + after);
  }
  protocol::ClientMessage read_request() {
    for (;;) {
      auto f = decoder_.next();
      if (f && *f) {
        protocol::ClientMessage m;
        EXPECT_TRUE(m.ParseFromString(**f));
        return m;
      }
      char buf[4096];
      const ssize_t n = ::read(conn_.get(), buf, sizeof(buf));
      if (n <= 0) {
        return {};
      }
      decoder_.feed(std::string_view(buf, static_cast<size_t>(n)));
    }
  }
  void send(const std::string& bytes) {
    ASSERT_EQ(::write(conn_.get(), bytes.data(), bytes.size()), static_cast<ssize_t>(bytes.size()));
  }

 private:
  std::string dir_;
  std::string path_;
  Fd listener_;
  Fd conn_;
  protocol::FrameDecoder decoder_;
};

protocol::ServerMessage pushed_request(uint64_t id, std::string arg) {
  protocol::ServerMessage m;
  m.mutable_request()->set_id(id);
  m.mutable_request()->add_argv(std::move(arg));
  return m;
}

TEST(Client, AnUnreadablePushIsSkippedAndTheNextOneDelivered) {
  FakeDaemon daemon;
  std::thread t([&] {
    daemon.accept_and_welcome();
    daemon.send(kUnreadable + frame(pushed_request(2, "\xff\xfe")));
  });
  auto c = Client::connect(daemon.path(), "test");
  t.join();
  ASSERT_TRUE(c) << c.error().message;
  auto push = (*c)->next_push(5s);
  ASSERT_TRUE(push) << push.error().message;
  ASSERT_TRUE(*push);
  EXPECT_EQ((*push)->request().id(), 2u);
  EXPECT_EQ((*push)->request().argv(0), "\xff\xfe");
  EXPECT_EQ((*c)->unreadable(), 1u);
}

TEST(Client, AReplyAfterAnUnreadableMessageStillAnswersTheCall) {
  FakeDaemon daemon;
  std::thread t([&] {
    daemon.accept_and_welcome();
    const protocol::ClientMessage list = daemon.read_request();
    protocol::ServerMessage reply;
    reply.set_request_id(list.request_id());
    *reply.mutable_pending()->add_requests() = pushed_request(3, "x").request();
    daemon.send(kUnreadable + frame(pushed_request(4, "y")) + kUnreadable + frame(reply));
  });
  auto c = Client::connect(daemon.path(), "test");
  ASSERT_TRUE(c) << c.error().message;
  protocol::ClientMessage m;
  m.mutable_list_pending();
  auto r = (*c)->call(std::move(m), 5s);
  t.join();
  ASSERT_TRUE(r) << r.error().message;
  EXPECT_EQ(r->pending().requests(0).id(), 3u);
  EXPECT_EQ((*c)->unreadable(), 2u);
  // The push that came with the reply is kept for later.
  EXPECT_TRUE((*c)->has_buffered_push());
  auto push = (*c)->next_push(0ms);
  ASSERT_TRUE(push && *push);
  EXPECT_EQ((*push)->request().id(), 4u);
}

// The prompt polls the socket only when nothing is buffered: a push that arrived with a reply,
// behind an unreadable message, must still be seen.
TEST(Client, HasBufferedPushSeesPastAnUnreadableMessage) {
  FakeDaemon daemon;
  std::thread t([&] { daemon.accept_and_welcome(kUnreadable + frame(pushed_request(5, "z"))); });
  auto c = Client::connect(daemon.path(), "test");
  t.join();
  ASSERT_TRUE(c) << c.error().message;
  ASSERT_TRUE((*c)->has_buffered_push());
  auto push = (*c)->next_push(0ms);
  ASSERT_TRUE(push && *push);
  EXPECT_EQ((*push)->request().id(), 5u);
  EXPECT_EQ((*c)->unreadable(), 1u);
}

protocol::ServerMessage auth_prompt(uint64_t request_id) {
  protocol::ServerMessage m;
  m.set_request_id(request_id);
  auto* p = m.mutable_auth_prompt();
  p->set_conversation(7);
  p->set_user("alice");
  p->set_answer(true);
  p->set_timeout_ms(5000);
  auto* msg = p->add_messages();
  msg->set_style(protocol::AUTH_SECRET);
  msg->set_text("Password: ");
  return m;
}

protocol::ClientMessage decide(uint64_t id) {
  protocol::ClientMessage m;
  m.mutable_decide()->set_id(id);
  m.mutable_decide()->set_verdict(protocol::VERDICT_ALLOW);
  return m;
}

TEST(Client, AuthenticationPromptsAreAnsweredWithinTheCall) {
  FakeDaemon daemon;
  protocol::ClientMessage answer;
  std::thread t([&] {
    daemon.accept_and_welcome();
    const protocol::ClientMessage d = daemon.read_request();
    daemon.send(frame(pushed_request(9, "meanwhile")) + frame(auth_prompt(d.request_id())));
    answer = daemon.read_request();
    protocol::ServerMessage r;
    r.set_request_id(d.request_id());
    r.mutable_decided()->set_id(12);
    daemon.send(frame(r));
  });
  auto c = Client::connect(daemon.path(), "test");
  ASSERT_TRUE(c) << c.error().message;
  std::string shown;
  auto r = (*c)->call(decide(12), 5s, [&](const protocol::AuthPrompt& p) {
    shown = p.user() + ": " + p.messages(0).text();
    protocol::AuthAnswer a;
    a.add_responses("secret");
    return Result<protocol::AuthAnswer>(a);
  });
  t.join();
  ASSERT_TRUE(r) << r.error().message;
  EXPECT_EQ(r->decided().id(), 12u);
  EXPECT_EQ(shown, "alice: Password: ");
  EXPECT_EQ(answer.request_id(), 2u);  // the Decide's
  ASSERT_TRUE(answer.has_auth_answer());
  EXPECT_EQ(answer.auth_answer().conversation(), 7u);
  EXPECT_FALSE(answer.auth_answer().cancel());
  ASSERT_EQ(answer.auth_answer().responses_size(), 1);
  EXPECT_EQ(answer.auth_answer().responses(0), "secret");
  EXPECT_TRUE((*c)->has_buffered_push());
}

TEST(Client, APromptNobodyCanAnswerIsDeclinedAndTheCallFails) {
  for (bool with_answerer : {false, true}) {
    FakeDaemon daemon;
    protocol::ClientMessage answer;
    std::thread t([&] {
      daemon.accept_and_welcome();
      const protocol::ClientMessage d = daemon.read_request();
      daemon.send(frame(auth_prompt(d.request_id())));
      answer = daemon.read_request();
    });
    auto c = Client::connect(daemon.path(), "test");
    ASSERT_TRUE(c) << c.error().message;
    Client::AuthAnswerer none;
    Client::AuthAnswerer no_terminal = [](const protocol::AuthPrompt&) {
      return Result<protocol::AuthAnswer>(Error{"no terminal"});
    };
    auto r = (*c)->call(decide(12), 5s, with_answerer ? no_terminal : none);
    t.join();
    ASSERT_FALSE(r);
    EXPECT_NE(r.error().message.find(with_answerer ? "no terminal" : "cannot ask for a password"),
              std::string::npos)
        << r.error().message;
    ASSERT_TRUE(answer.has_auth_answer());
    EXPECT_TRUE(answer.auth_answer().cancel());
    EXPECT_EQ(answer.auth_answer().conversation(), 7u);
    EXPECT_EQ(answer.auth_answer().responses_size(), 0);
  }
}

}  // namespace
}  // namespace cmdgate::client
