#pragma once
// SHA-256 of a file's content (libsodium), read through an fd from offset 0.

#include "common/result.h"
#include "rules/model.h"

namespace cmdgate::rules {

[[nodiscard]] Result<Sha256> sha256_of_fd(int fd);
[[nodiscard]] std::string to_hex(const Sha256& digest);

}  // namespace cmdgate::rules
