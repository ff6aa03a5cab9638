#pragma once
// Local accounts and groups through NSS, with a buffer that grows as large as an entry needs
// (a group with thousands of members does not fit the usual fixed buffer): the one place the
// daemon, the rules and the CLI look names and ids up.

#include <cstdint>
#include <optional>
#include <string>

namespace cmdgate {

[[nodiscard]] std::optional<uint32_t> uid_of(const std::string& user);
[[nodiscard]] std::optional<uint32_t> gid_of(const std::string& group);
[[nodiscard]] std::optional<std::string> user_name_of(uint32_t uid);

}  // namespace cmdgate
