#pragma once
// libbpf returns negative errno values (or sets errno); this names what failed.

#include <cstring>
#include <string_view>

#include "common/result.h"

namespace cmdgate::probe {

[[nodiscard]] inline Error libbpf_error(std::string_view what, int err) {
  return Error::format("{}: {}", what, std::strerror(err < 0 ? -err : err));
}

}  // namespace cmdgate::probe
