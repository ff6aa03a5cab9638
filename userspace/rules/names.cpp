#include "common/accounts.h"
#include "rules/parser.h"

namespace cmdgate::rules {

std::optional<uint32_t> SystemNameResolver::uid(const std::string& name) const {
  return uid_of(name);
}

std::optional<uint32_t> SystemNameResolver::gid(const std::string& name) const {
  return gid_of(name);
}

}  // namespace cmdgate::rules
