#include "approval/auth_policy.h"

#include <array>
#include <utility>

namespace cmdgate {
namespace {

constexpr std::array<std::pair<AuthenticateWhen, std::string_view>, 3> kNames = {{
    {AuthenticateWhen::kSameUid, "same-uid"},
    {AuthenticateWhen::kAlways, "always"},
    {AuthenticateWhen::kNever, "never"},
}};

}  // namespace

std::string_view to_string(AuthenticateWhen when) {
  for (const auto& [w, name] : kNames) {
    if (w == when) {
      return name;
    }
  }
  return "?";
}

std::optional<AuthenticateWhen> parse_authenticate_when(std::string_view name) {
  for (const auto& [w, n] : kNames) {
    if (n == name) {
      return w;
    }
  }
  return std::nullopt;
}

std::string authenticate_when_names() {
  std::string out;
  for (const auto& [w, name] : kNames) {
    out += (out.empty() ? "'" : ", '") + std::string(name) + "'";
  }
  return out;
}

bool must_authenticate(AuthenticateWhen when, uint32_t approver_uid, uint32_t requester_uid) {
  switch (when) {
    case AuthenticateWhen::kAlways:
      return true;
    case AuthenticateWhen::kNever:
      return false;
    case AuthenticateWhen::kSameUid:
      return approver_uid == requester_uid && approver_uid != 0;
  }
  return true;
}

}  // namespace cmdgate
