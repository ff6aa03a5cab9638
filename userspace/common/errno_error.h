#pragma once

#include <cerrno>
#include <cstring>
#include <string_view>

#include "common/result.h"

namespace cmdgate {

// "what: strerror(errno)" for a failed system call; captures errno at the call.
[[nodiscard]] inline Error errno_error(std::string_view what, int err = errno) {
  return Error::format("{}: {}", what, std::strerror(err));
}

}  // namespace cmdgate
