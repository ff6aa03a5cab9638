#pragma once
// /etc/cmdgate/cmdgate.toml -> DaemonConfig. Every key is documented in docs/operations.md;
// unknown keys and wrong types are errors naming file:line:column.

#include <string>
#include <string_view>

#include "common/result.h"
#include "daemon_config.h"

namespace cmdgate {

// Applies the settings in the TOML text on top of `base` (defaults or earlier settings).
[[nodiscard]] Result<DaemonConfig> parse_config(std::string_view toml_text, std::string_view origin,
                                                DaemonConfig base = {});
[[nodiscard]] Result<DaemonConfig> load_config(const std::string& path, DaemonConfig base = {});

}  // namespace cmdgate
