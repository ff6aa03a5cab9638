#include "approval/auth_service.h"

#include <spdlog/spdlog.h>
#include <string.h>

#include <algorithm>
#include <condition_variable>
#include <mutex>

namespace cmdgate {

struct AuthService::Transaction {
  uint64_t id = 0;
  std::string user;
  std::mutex mutex;
  std::condition_variable wake;
  // Guarded by mutex:
  std::optional<std::vector<std::string>> answer;
  bool over = false;  // no answer will be taken any more: cancelled, timed out
};

namespace {

// The conversation on the transaction's thread: each prompt goes to the loop, and the thread
// waits for the loop to hand it the client's answer.
class RelayedConversation final : public AuthConversation {
 public:
  using Relay = std::function<void(const std::vector<AuthItem>&, bool answer)>;
  RelayedConversation(std::shared_ptr<AuthService::Transaction> txn, Relay relay,
                      std::chrono::milliseconds answer_timeout,
                      std::chrono::steady_clock::time_point deadline)
      : txn_(std::move(txn)),
        relay_(std::move(relay)),
        answer_timeout_(answer_timeout),
        deadline_(deadline) {}

  std::optional<std::vector<std::string>> ask(const std::vector<AuthItem>& items) override {
    const bool asks =
        std::any_of(items.begin(), items.end(), [](const auto& i) { return i.asks(); });
    {
      std::lock_guard lock(txn_->mutex);
      if (txn_->over) {
        return std::nullopt;
      }
    }
    relay_(items, asks);
    if (!asks) {
      return std::vector<std::string>(items.size());
    }
    std::unique_lock lock(txn_->mutex);
    const auto until = std::min(std::chrono::steady_clock::now() + answer_timeout_, deadline_);
    txn_->wake.wait_until(lock, until, [&] { return txn_->answer || txn_->over; });
    if (!txn_->answer) {
      txn_->over = true;  // an answer arriving now would be taken for the next prompt's
      return std::nullopt;
    }
    std::vector<std::string> a = std::move(*txn_->answer);
    txn_->answer.reset();
    answered_ = true;
    if (a.size() != items.size()) {
      for (auto& s : a) {
        wipe(s);
      }
      return std::nullopt;
    }
    return a;
  }

  [[nodiscard]] bool answered() const { return answered_; }

 private:
  std::shared_ptr<AuthService::Transaction> txn_;
  Relay relay_;
  const std::chrono::milliseconds answer_timeout_;
  const std::chrono::steady_clock::time_point deadline_;
  bool answered_ = false;
};

int64_t ms(std::chrono::nanoseconds d) {
  return std::chrono::duration_cast<std::chrono::milliseconds>(d).count();
}

}  // namespace

void wipe(std::string& secret) {
  if (!secret.empty()) {
    ::explicit_bzero(secret.data(), secret.size());
  }
  secret.clear();
}

Result<std::unique_ptr<AuthService>> AuthService::start(AuthSettings settings,
                                                        std::shared_ptr<AuthBackend> backend,
                                                        const Clock& clock, Handlers handlers) {
  auto threads = OffLoop::create(settings.max_transactions);
  if (!threads) {
    return threads.error();
  }
  return std::unique_ptr<AuthService>(new AuthService(settings, std::move(backend), clock,
                                                      std::move(handlers), std::move(*threads)));
}

AuthService::AuthService(AuthSettings settings, std::shared_ptr<AuthBackend> backend,
                         const Clock& clock, Handlers handlers, std::unique_ptr<OffLoop> threads)
    : settings_(settings),
      backend_(std::move(backend)),
      clock_(clock),
      handlers_(std::move(handlers)),
      limiter_(settings.limits),
      threads_(std::move(threads)) {}

AuthService::~AuthService() {
  for (auto& [id, l] : live_) {
    end_conversation(l);
  }
  threads_.reset();  // waits a little for the conversations just ended
}

Result<uint64_t> AuthService::begin(uint32_t uid, const std::string& user) {
  if (auto why = limiter_.refuse(uid, clock_.steady())) {
    ++counters_.refused;
    spdlog::warn("authentication of {} (uid {}) refused: {}", user, uid, *why);
    return Error{*why};
  }
  const uint64_t id = next_id_++;
  auto txn = std::make_shared<Transaction>();
  txn->id = id;
  txn->user = user;
  const auto answer_timeout = settings_.answer_timeout;
  const auto limit = settings_.transaction_timeout;
  // `this` is only touched by what is posted, which runs on the loop while threads_ lives.
  const bool started = threads_->run(
      [this, id, txn, backend = backend_, answer_timeout, limit](const OffLoop::Post& post) {
        const auto t0 = std::chrono::steady_clock::now();
        RelayedConversation conv(
            txn,
            [this, &post, id](const std::vector<AuthItem>& items, bool answer) {
              post([this, id, items, answer] { relay(id, items, answer); });
            },
            answer_timeout, t0 + limit);
        AuthVerdict v = backend->authenticate(txn->user, conv);
        const auto took = std::chrono::steady_clock::now() - t0;
        post([this, id, v = std::move(v), answered = conv.answered(), took] {
          finish(id, v, answered, took);
        });
      });
  if (!started) {
    ++counters_.refused;
    spdlog::warn("authentication of {} (uid {}) refused: {} already under way", user, uid,
                 threads_->running());
    return Error::format("{} authentications are under way; try again shortly",
                         threads_->running());
  }
  limiter_.started(uid);
  live_.emplace(id, Live{std::move(txn), uid, user, clock_.steady() + limit});
  spdlog::info("authenticating {} (uid {}) for an approval [{}]", user, uid, id);
  return id;
}

void AuthService::relay(uint64_t id, const std::vector<AuthItem>& items, bool answer) {
  auto it = live_.find(id);
  if (it == live_.end() || it->second.settled) {
    return;
  }
  it->second.awaiting = answer;
  handlers_.prompt(id, items, answer);
}

bool AuthService::answer(uint64_t id, std::vector<std::string> responses) {
  auto it = live_.find(id);
  if (it == live_.end() || it->second.settled || !it->second.awaiting) {
    for (auto& r : responses) {
      wipe(r);
    }
    return false;
  }
  it->second.awaiting = false;
  Transaction& t = *it->second.txn;
  {
    std::lock_guard lock(t.mutex);
    t.answer = std::move(responses);
  }
  t.wake.notify_all();
  return true;
}

void AuthService::end_conversation(Live& l) {
  l.settled = true;
  l.awaiting = false;
  {
    std::lock_guard lock(l.txn->mutex);
    l.txn->over = true;
    if (l.txn->answer) {
      for (auto& r : *l.txn->answer) {
        wipe(r);
      }
      l.txn->answer.reset();
    }
  }
  l.txn->wake.notify_all();
}

void AuthService::cancel(uint64_t id) {
  if (auto it = live_.find(id); it != live_.end() && !it->second.settled) {
    spdlog::info("authentication of {} (uid {}) [{}]: the client left", it->second.user,
                 it->second.uid, id);
    end_conversation(it->second);
  }
}

void AuthService::expire() {
  const Time now = clock_.steady();
  for (auto& [id, l] : live_) {
    if (!l.settled && l.deadline <= now) {
      spdlog::warn("authentication of {} (uid {}) [{}] timed out", l.user, l.uid, id);
      end_conversation(l);
      handlers_.done(id, AuthVerdict{false, "authentication timed out"});
    }
  }
}

std::optional<AuthService::Time> AuthService::next_deadline() const {
  std::optional<Time> next;
  for (const auto& [id, l] : live_) {
    if (!l.settled && (!next || l.deadline < *next)) {
      next = l.deadline;
    }
  }
  return next;
}

// The uid stays busy until its thread returns, however long a PAM module takes: a connection
// that leaves mid-attempt must not make room for a parallel guess.
void AuthService::finish(uint64_t id, const AuthVerdict& verdict, bool answered,
                         std::chrono::nanoseconds took) {
  auto it = live_.find(id);
  if (it == live_.end()) {
    return;
  }
  Live l = std::move(it->second);
  live_.erase(it);
  limiter_.ended(l.uid);
  if (verdict.ok) {
    limiter_.succeeded(l.uid);
    ++counters_.succeeded;
    spdlog::info("authenticated {} (uid {}) [{}] in {} ms", l.user, l.uid, id, ms(took));
  } else if (answered) {
    limiter_.failed(l.uid, clock_.steady());
    ++counters_.failed;
    spdlog::warn("authentication of {} (uid {}) [{}] failed after {} ms: {}", l.user, l.uid, id,
                 ms(took), verdict.message);
  } else {
    ++counters_.abandoned;
    spdlog::info("authentication of {} (uid {}) [{}] ended without an answer: {}", l.user, l.uid,
                 id, verdict.message);
  }
  if (!l.settled) {
    handlers_.done(id, verdict);
  }
}

}  // namespace cmdgate
