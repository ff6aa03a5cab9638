// AuthService with a backend that asks for a password through the conversation, the way
// pam_unix does: threads, relays, timeouts and the rate limit, without PAM.

#include "approval/auth_service.h"

#include <poll.h>

#include <gtest/gtest.h>

#include <atomic>
#include <thread>

namespace cmdgate {
namespace {

using namespace std::chrono_literals;

class FakeClock final : public Clock {
 public:
  uint64_t monotonic_ns() const override { return now; }
  std::atomic<uint64_t> now{1'000'000'000};
  void advance(std::chrono::nanoseconds d) { now += static_cast<uint64_t>(d.count()); }
};

class PasswordBackend final : public AuthBackend {
 public:
  AuthVerdict authenticate(const std::string& user, AuthConversation& conv) override {
    auto a = conv.ask({{AuthItem::Kind::kInfo, "hello " + user},
                       {AuthItem::Kind::kSecret, "Password: "}});
    if (!a) {
      return {false, "conversation failed"};
    }
    const bool ok = (*a)[1] == "secret";
    wipe((*a)[1]);
    return {ok, ok ? "" : "wrong password"};
  }
};

struct Prompt {
  uint64_t id;
  std::vector<AuthItem> items;
  bool answer;
};

class AuthServiceTest : public ::testing::Test {
 protected:
  void start(AuthSettings settings = {}) {
    auto s = AuthService::start(
        settings, std::make_shared<PasswordBackend>(), clock_,
        {[this](uint64_t id, const std::vector<AuthItem>& items, bool answer) {
           prompts_.push_back({id, items, answer});
         },
         [this](uint64_t id, const AuthVerdict& v) { done_.emplace_back(id, v); }});
    ASSERT_TRUE(s.ok()) << s.error().message;
    service_ = std::move(*s);
  }
  // Runs the loop's side until pred holds.
  bool until(const std::function<bool()>& pred, std::chrono::milliseconds timeout = 5s) {
    const auto end = std::chrono::steady_clock::now() + timeout;
    while (!pred()) {
      if (std::chrono::steady_clock::now() > end) {
        return false;
      }
      pollfd p{service_->fd(), POLLIN, 0};
      if (::poll(&p, 1, 10) > 0) {
        service_->drain();
      }
    }
    return true;
  }

  FakeClock clock_;
  std::unique_ptr<AuthService> service_;
  std::vector<Prompt> prompts_;
  std::vector<std::pair<uint64_t, AuthVerdict>> done_;
};

TEST_F(AuthServiceTest, ThePromptGoesOutAndTheAnswerDecides) {
  start();
  auto id = service_->begin(1000, "alice");
  ASSERT_TRUE(id.ok());
  ASSERT_TRUE(until([&] { return !prompts_.empty(); }));
  EXPECT_EQ(prompts_[0].id, *id);
  EXPECT_TRUE(prompts_[0].answer);
  ASSERT_EQ(prompts_[0].items.size(), 2u);
  EXPECT_EQ(prompts_[0].items[0].text, "hello alice");
  EXPECT_TRUE(prompts_[0].items[1].asks());
  EXPECT_FALSE(service_->answer(*id + 1, {"", "secret"}));
  EXPECT_TRUE(service_->answer(*id, {"", "secret"}));
  EXPECT_FALSE(service_->answer(*id, {"", "secret"}));  // one answer per prompt
  ASSERT_TRUE(until([&] { return !done_.empty(); }));
  EXPECT_EQ(done_[0].first, *id);
  EXPECT_TRUE(done_[0].second.ok);
  EXPECT_EQ(service_->counters().succeeded, 1u);
  EXPECT_EQ(service_->active(), 0u);
}

TEST_F(AuthServiceTest, AWrongAnswerIsCountedAndBacksTheUidOff) {
  start();
  auto id = service_->begin(1000, "alice");
  ASSERT_TRUE(id.ok());
  ASSERT_TRUE(until([&] { return !prompts_.empty(); }));
  ASSERT_TRUE(service_->answer(*id, {"", "guess"}));
  ASSERT_TRUE(until([&] { return !done_.empty(); }));
  EXPECT_FALSE(done_[0].second.ok);
  EXPECT_EQ(done_[0].second.message, "wrong password");
  EXPECT_EQ(service_->counters().failed, 1u);
  auto again = service_->begin(1000, "alice");
  ASSERT_FALSE(again.ok());
  EXPECT_NE(again.error().message.find("try again"), std::string::npos);
  EXPECT_EQ(service_->counters().refused, 1u);
  EXPECT_TRUE(service_->begin(1001, "bob").ok());
  clock_.advance(1s);
  EXPECT_TRUE(service_->begin(1000, "alice").ok());
}

TEST_F(AuthServiceTest, OneAttemptPerUidAndABoundOnAllOfThem) {
  AuthSettings s;
  s.max_transactions = 2;
  start(s);
  auto a = service_->begin(1000, "alice");
  ASSERT_TRUE(a.ok());
  EXPECT_FALSE(service_->begin(1000, "alice").ok());  // a second connection guesses no faster
  auto b = service_->begin(1001, "bob");
  ASSERT_TRUE(b.ok());
  auto c = service_->begin(1002, "carol");
  ASSERT_FALSE(c.ok());
  EXPECT_NE(c.error().message.find("under way"), std::string::npos);
  ASSERT_TRUE(until([&] { return prompts_.size() == 2; }));
  ASSERT_TRUE(service_->answer(*a, {"", "secret"}));
  ASSERT_TRUE(service_->answer(*b, {"", "secret"}));
  ASSERT_TRUE(until([&] { return done_.size() == 2; }));
  EXPECT_TRUE(service_->begin(1002, "carol").ok());
}

TEST_F(AuthServiceTest, AClientThatLeavesEndsTheConversationWithoutAFailure) {
  start();
  auto id = service_->begin(1000, "alice");
  ASSERT_TRUE(id.ok());
  ASSERT_TRUE(until([&] { return !prompts_.empty(); }));
  service_->cancel(*id);
  ASSERT_TRUE(until([&] { return service_->active() == 0; }));
  EXPECT_TRUE(done_.empty());  // nobody is left to tell
  EXPECT_EQ(service_->counters().abandoned, 1u);
  EXPECT_EQ(service_->counters().failed, 0u);
  EXPECT_TRUE(service_->begin(1000, "alice").ok());  // no backoff: nothing was guessed
}

TEST_F(AuthServiceTest, AnAnswerThatDoesNotComeEndsIt) {
  AuthSettings s;
  s.answer_timeout = 100ms;
  start(s);
  auto id = service_->begin(1000, "alice");
  ASSERT_TRUE(id.ok());
  ASSERT_TRUE(until([&] { return !done_.empty(); }));
  EXPECT_FALSE(done_[0].second.ok);
  EXPECT_FALSE(service_->answer(*id, {"", "secret"}));  // too late
  EXPECT_EQ(service_->counters().abandoned, 1u);
}

TEST_F(AuthServiceTest, ATransactionPastItsTimeIsReportedFailed) {
  AuthSettings s;
  s.transaction_timeout = 30s;
  start(s);
  auto id = service_->begin(1000, "alice");
  ASSERT_TRUE(id.ok());
  ASSERT_TRUE(until([&] { return !prompts_.empty(); }));
  ASSERT_TRUE(service_->next_deadline());
  clock_.advance(31s);
  service_->expire();
  ASSERT_EQ(done_.size(), 1u);
  EXPECT_FALSE(done_[0].second.ok);
  EXPECT_FALSE(service_->next_deadline());
  // Its thread is told to stop and returns; nothing is reported twice.
  ASSERT_TRUE(until([&] { return service_->active() == 0; }));
  EXPECT_EQ(done_.size(), 1u);
}

}  // namespace
}  // namespace cmdgate
