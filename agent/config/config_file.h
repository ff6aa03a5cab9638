#pragma once
// /etc/cmdgate/cmdgate.toml -> DaemonConfig. Every key is documented in docs/operations.md;
// unknown keys and wrong types are errors naming file:line:column.

#include <string>
#include <string_view>
#include <vector>

#include "common/result.h"
#include "daemon_config.h"

namespace cmdgate {

// Applies the settings in the TOML text on top of `base` (defaults or earlier settings).
[[nodiscard]] Result<DaemonConfig> parse_config(std::string_view toml_text, std::string_view origin,
                                                DaemonConfig base = {});
[[nodiscard]] Result<DaemonConfig> load_config(const std::string& path, DaemonConfig base = {});

// Every setting the file can hold, as "key" or "section.key", in the reader's own order: what the
// shipped template (etc/cmdgate.toml) must list.
[[nodiscard]] std::vector<std::string> setting_keys();

}  // namespace cmdgate
