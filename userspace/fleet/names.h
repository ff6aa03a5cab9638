#pragma once
// Names that end up in MQTT topics and file names: groups, host ids, rule file names. One
// character set for all of them, so no name can carry a topic wildcard ('+', '#'), a level
// separator ('/') or a path component ("..").

#include <string>
#include <string_view>

#include "common/result.h"

namespace cmdgate::fleet {

inline constexpr std::string_view kRulesTopicPrefix = "cmdgate/rules/";
inline constexpr std::string_view kStatusTopicPrefix = "cmdgate/status/";

// [A-Za-z0-9][A-Za-z0-9._-]{0,63}; `what` names the value in the error ("group", "host id").
[[nodiscard]] Status check_name(std::string_view name, std::string_view what);
// As check_name, up to 128 characters, ending in ".toml".
[[nodiscard]] Status check_rule_file_name(std::string_view name);

[[nodiscard]] std::string rules_topic(std::string_view group);
[[nodiscard]] std::string status_topic(std::string_view host);

}  // namespace cmdgate::fleet
