#pragma once
// Proof of a person for approvals (docs/approvals.md): one PAM transaction per attempt, its
// conversation carried over the approval socket. Each transaction runs on a thread of its own
// (OffLoop), where PAM may block as long as it likes; the loop only relays messages and never
// waits. Bounded: max_transactions at once, one per uid, failed attempts backed off and locked
// out per uid (AuthLimiter). An answer that does not come within answer_timeout ends the
// conversation, and a transaction still running at transaction_timeout is reported failed.

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "approval/auth_limiter.h"
#include "approval/off_loop.h"
#include "common/result.h"
#include "kernel/clock.h"

namespace cmdgate {

// One message of a conversation.
struct AuthItem {
  enum class Kind : uint8_t { kSecret, kVisible, kError, kInfo };
  Kind kind = Kind::kInfo;
  std::string text;
  [[nodiscard]] bool asks() const { return kind == Kind::kSecret || kind == Kind::kVisible; }
};

// The person's side of a conversation, as a backend sees it on its transaction's thread.
class AuthConversation {
 public:
  virtual ~AuthConversation() = default;
  // Shows the items and, when some ask, waits for one answer per item ("" for those that ask
  // nothing). nullopt: no answer came (cancelled, timed out, the client left).
  [[nodiscard]] virtual std::optional<std::vector<std::string>> ask(
      const std::vector<AuthItem>& items) = 0;
};

struct AuthVerdict {
  bool ok = false;
  std::string message;  // why not, for the approver and the log
};

// The authority: PAM (pam_backend.h) in the daemon, a fake in unit tests.
class AuthBackend {
 public:
  virtual ~AuthBackend() = default;
  // Blocks. Runs on a transaction's thread, possibly several at once.
  [[nodiscard]] virtual AuthVerdict authenticate(const std::string& user,
                                                 AuthConversation& conv) = 0;
};

struct AuthSettings {
  size_t max_transactions = 4;
  std::chrono::milliseconds answer_timeout{std::chrono::seconds(60)};
  std::chrono::milliseconds transaction_timeout{std::chrono::minutes(3)};
  AuthLimits limits;
};

struct AuthCounters {
  uint64_t succeeded = 0;
  uint64_t failed = 0;     // an answer was given and rejected: counted against the uid
  uint64_t abandoned = 0;  // ended before any answer: cancelled, timed out, the client left
  uint64_t refused = 0;    // not started: backoff, lockout, too many at once
};

class AuthService {
 public:
  using Time = std::chrono::steady_clock::time_point;
  struct Handlers {
    // Items to show; `answer`: some ask, and answer() is awaited.
    std::function<void(uint64_t id, const std::vector<AuthItem>& items, bool answer)> prompt;
    // Once per transaction, unless cancelled first.
    std::function<void(uint64_t id, const AuthVerdict& verdict)> done;
  };

  [[nodiscard]] static Result<std::unique_ptr<AuthService>> start(
      AuthSettings settings, std::shared_ptr<AuthBackend> backend, const Clock& clock,
      Handlers handlers);
  ~AuthService();
  AuthService(const AuthService&) = delete;
  AuthService& operator=(const AuthService&) = delete;

  // Readable when drain() has work.
  [[nodiscard]] int fd() const { return threads_->fd(); }
  void drain() { threads_->drain(); }

  // Starts authenticating `user`, the account of `uid`: the transaction's id, or why not now.
  [[nodiscard]] Result<uint64_t> begin(uint32_t uid, const std::string& user);
  // The answers to the prompt transaction `id` awaits; false, taking nothing, when it awaits
  // none. The caller's copies are its own to wipe.
  [[nodiscard]] bool answer(uint64_t id, std::vector<std::string> responses);
  // Ends a transaction whose client left; done() is not called for it.
  void cancel(uint64_t id);
  // Reports transactions past transaction_timeout as failed.
  void expire();
  [[nodiscard]] std::optional<Time> next_deadline() const;
  [[nodiscard]] const AuthCounters& counters() const { return counters_; }
  [[nodiscard]] size_t active() const { return live_.size(); }

  struct Transaction;  // shared with its thread

 private:
  struct Live {
    std::shared_ptr<Transaction> txn;
    uint32_t uid = 0;
    std::string user;
    Time deadline;
    bool awaiting = false;  // an answer to the last prompt
    bool settled = false;   // done() called or cancelled: the rest is bookkeeping
  };

  AuthService(AuthSettings settings, std::shared_ptr<AuthBackend> backend, const Clock& clock,
              Handlers handlers, std::unique_ptr<OffLoop> threads);
  // From the transaction's thread, on the loop.
  void relay(uint64_t id, const std::vector<AuthItem>& items, bool answer);
  void finish(uint64_t id, const AuthVerdict& verdict, bool answered,
              std::chrono::nanoseconds took);
  void end_conversation(Live& l);

  const AuthSettings settings_;
  std::shared_ptr<AuthBackend> backend_;
  const Clock& clock_;
  Handlers handlers_;
  AuthLimiter limiter_;
  std::map<uint64_t, Live> live_;
  uint64_t next_id_ = 1;
  AuthCounters counters_;
  std::unique_ptr<OffLoop> threads_;  // last: destroyed first, so nothing it runs outlives us
};

// Overwrites a secret before its memory is given back.
void wipe(std::string& secret);

}  // namespace cmdgate
