#pragma once
// How often a uid may try to authenticate. Each failed attempt (a wrong answer given, not a
// conversation abandoned before any) makes the next wait longer, doubling from first_backoff;
// max_failures within `window` lock the uid out until the oldest of them leaves the window. One
// attempt per uid at a time, so parallel connections guess no faster than one. A success clears
// the uid's failures. Per uid, not per connection: what an attacker lacks is that uid's secret.

#include <chrono>
#include <cstdint>
#include <deque>
#include <map>
#include <optional>
#include <set>
#include <string>

namespace cmdgate {

struct AuthLimits {
  uint32_t max_failures = 5;
  std::chrono::minutes window{15};
  std::chrono::seconds first_backoff{1};
};

class AuthLimiter {
 public:
  using Time = std::chrono::steady_clock::time_point;

  explicit AuthLimiter(AuthLimits limits) : limits_(limits) {}

  // Why uid may not start an attempt now, or nullopt.
  [[nodiscard]] std::optional<std::string> refuse(uint32_t uid, Time now);
  void started(uint32_t uid) { busy_.insert(uid); }
  void ended(uint32_t uid) { busy_.erase(uid); }
  void failed(uint32_t uid, Time now);
  void succeeded(uint32_t uid) { failures_.erase(uid); }
  [[nodiscard]] bool locked_out(uint32_t uid, Time now);

 private:
  void forget_old(uint32_t uid, Time now);

  AuthLimits limits_;
  std::map<uint32_t, std::deque<Time>> failures_;  // within the window, oldest first
  std::set<uint32_t> busy_;
};

}  // namespace cmdgate
