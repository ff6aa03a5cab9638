#pragma once
// The host name, as records and requests name the machine they come from.

#include <string>

#include "common/result.h"

namespace cmdgate {

// gethostname(2); an error when the kernel will not say.
[[nodiscard]] Result<std::string> host_name();

}  // namespace cmdgate
