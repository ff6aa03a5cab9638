#include <grp.h>
#include <pwd.h>
#include <unistd.h>

#include <cerrno>
#include <vector>

#include "rules/parser.h"

namespace cmdgate::rules {
namespace {

constexpr size_t kMaxBuffer = 1u << 20;

size_t initial_buffer(int sysconf_name) {
  const long hint = ::sysconf(sysconf_name);
  return hint > 0 ? static_cast<size_t>(hint) : 16384;
}

// Calls lookup(entry, buffer, size, &result) growing the buffer on ERANGE. The entry's id when
// found, nullopt when the name is unknown or the lookup failed.
template <typename Entry, typename Lookup, typename Id>
std::optional<uint32_t> lookup_id(const std::string& name, int sysconf_name, Lookup lookup, Id id) {
  if (name.empty()) {
    return std::nullopt;
  }
  std::vector<char> buffer(initial_buffer(sysconf_name));
  for (;;) {
    Entry entry{};
    Entry* result = nullptr;
    const int err = lookup(name.c_str(), &entry, buffer.data(), buffer.size(), &result);
    if (err == ERANGE && buffer.size() < kMaxBuffer) {
      buffer.resize(buffer.size() * 2);
      continue;
    }
    if (err != 0 || result == nullptr) {
      return std::nullopt;
    }
    return static_cast<uint32_t>(id(*result));
  }
}

}  // namespace

std::optional<uint32_t> SystemNameResolver::uid(const std::string& name) const {
  return lookup_id<passwd>(name, _SC_GETPW_R_SIZE_MAX, ::getpwnam_r,
                           [](const passwd& p) { return p.pw_uid; });
}

std::optional<uint32_t> SystemNameResolver::gid(const std::string& name) const {
  return lookup_id<group>(name, _SC_GETGR_R_SIZE_MAX, ::getgrnam_r,
                          [](const group& g) { return g.gr_gid; });
}

}  // namespace cmdgate::rules
