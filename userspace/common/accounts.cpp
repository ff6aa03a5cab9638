#include "common/accounts.h"

#include <grp.h>
#include <pwd.h>
#include <unistd.h>

#include <cerrno>
#include <utility>
#include <vector>

namespace cmdgate {
namespace {

constexpr size_t kMaxBuffer = 1u << 20;

// Calls lookup(key, &entry, buffer, size, &result), growing the buffer on ERANGE; the entry's
// field when found, nullopt when the key is unknown or the lookup failed.
template <typename Entry, typename Key, typename Lookup, typename Field>
auto lookup(const Key& key, int sysconf_name, Lookup call, Field field)
    -> std::optional<decltype(field(std::declval<const Entry&>()))> {
  const long hint = ::sysconf(sysconf_name);
  std::vector<char> buffer(hint > 0 ? static_cast<size_t>(hint) : 16384);
  for (;;) {
    Entry entry{};
    Entry* result = nullptr;
    const int err = call(key, &entry, buffer.data(), buffer.size(), &result);
    if (err == ERANGE && buffer.size() < kMaxBuffer) {
      buffer.resize(buffer.size() * 2);
      continue;
    }
    if (err != 0 || result == nullptr) {
      return std::nullopt;
    }
    return field(*result);
  }
}

}  // namespace

std::optional<uint32_t> uid_of(const std::string& user) {
  if (user.empty()) {
    return std::nullopt;
  }
  return lookup<passwd>(user.c_str(), _SC_GETPW_R_SIZE_MAX, ::getpwnam_r,
                        [](const passwd& p) { return static_cast<uint32_t>(p.pw_uid); });
}

std::optional<uint32_t> gid_of(const std::string& group_name) {
  if (group_name.empty()) {
    return std::nullopt;
  }
  return lookup<group>(group_name.c_str(), _SC_GETGR_R_SIZE_MAX, ::getgrnam_r,
                       [](const group& g) { return static_cast<uint32_t>(g.gr_gid); });
}

std::optional<std::string> user_name_of(uint32_t uid) {
  return lookup<passwd>(static_cast<uid_t>(uid), _SC_GETPW_R_SIZE_MAX, ::getpwuid_r,
                        [](const passwd& p) { return std::string(p.pw_name); });
}

}  // namespace cmdgate
