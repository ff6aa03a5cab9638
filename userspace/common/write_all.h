#pragma once
// Writes every byte to a descriptor, through short writes and interrupted ones.

#include <unistd.h>

#include <cerrno>
#include <string_view>

#include "common/errno_error.h"
#include "common/result.h"

namespace cmdgate {

[[nodiscard]] inline Status write_all(int fd, std::string_view bytes) {
  while (!bytes.empty()) {
    const ssize_t n = ::write(fd, bytes.data(), bytes.size());
    if (n < 0 && errno == EINTR) {
      continue;
    }
    if (n < 0) {
      return errno_error("write");
    }
    if (n == 0) {  // nothing written and no error: trying again would spin
      return Error{"write: no progress"};
    }
    bytes.remove_prefix(static_cast<size_t>(n));
  }
  return {};
}

}  // namespace cmdgate
