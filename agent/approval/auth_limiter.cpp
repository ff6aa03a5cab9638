#include "approval/auth_limiter.h"

#include <fmt/format.h>

#include <algorithm>

namespace cmdgate {
namespace {

int64_t seconds_until(AuthLimiter::Time then, AuthLimiter::Time now) {
  const auto left = std::chrono::ceil<std::chrono::seconds>(then - now).count();
  return std::max<int64_t>(left, 1);
}

}  // namespace

void AuthLimiter::forget_old(uint32_t uid, Time now) {
  auto it = failures_.find(uid);
  if (it == failures_.end()) {
    return;
  }
  while (!it->second.empty() && it->second.front() + limits_.window <= now) {
    it->second.pop_front();
  }
  if (it->second.empty()) {
    failures_.erase(it);
  }
}

bool AuthLimiter::locked_out(uint32_t uid, Time now) {
  forget_old(uid, now);
  auto it = failures_.find(uid);
  return it != failures_.end() && it->second.size() >= limits_.max_failures;
}

std::optional<std::string> AuthLimiter::refuse(uint32_t uid, Time now) {
  if (busy_.contains(uid)) {
    return fmt::format("an authentication of uid {} is already under way", uid);
  }
  if (locked_out(uid, now)) {
    const auto& f = failures_.at(uid);
    return fmt::format("{} failed authentications of uid {} within {} min: locked out for {} s",
                       f.size(), uid, limits_.window.count(),
                       seconds_until(f.front() + limits_.window, now));
  }
  auto it = failures_.find(uid);
  if (it == failures_.end()) {
    return std::nullopt;
  }
  // 1, 2, 4, ... times first_backoff after the 1st, 2nd, 3rd, ... failure in the window.
  const auto backoff =
      limits_.first_backoff * (int64_t{1} << std::min<size_t>(it->second.size() - 1, 20));
  const Time until = it->second.back() + backoff;
  if (now < until) {
    return fmt::format("too soon after a failed authentication of uid {}: try again in {} s", uid,
                       seconds_until(until, now));
  }
  return std::nullopt;
}

void AuthLimiter::failed(uint32_t uid, Time now) {
  forget_old(uid, now);
  failures_[uid].push_back(now);
}

}  // namespace cmdgate
