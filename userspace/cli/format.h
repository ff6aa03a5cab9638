#pragma once
// Protocol messages -> JSON (for --json) and -> human text. Every byte a monitored process chose
// goes through common/display_text.h on its way to a terminal; the JSON conventions for such
// bytes are in docs/cli.md.

#include <cstdint>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>

#include "cmdgate.pb.h"
#include "common/json_bytes.h"

namespace cmdgate::cli {

[[nodiscard]] nlohmann::json to_json(const protocol::ApprovalRequest& r);
[[nodiscard]] nlohmann::json to_json(const protocol::DecisionEvent& e);
[[nodiscard]] nlohmann::json to_json(const protocol::Status& s);
[[nodiscard]] nlohmann::json to_json(const protocol::RequestClosed& c);

// argv as display_words, with the cut the daemon made, if any, spelt out after it; the exe
// when argv is empty.
[[nodiscard]] std::string command_line(const protocol::ApprovalRequest& r);
[[nodiscard]] std::string command_line(const protocol::DecisionEvent& e);
// "1m05s", "42s", "-" for negative.
[[nodiscard]] std::string duration_text(int64_t ms);
[[nodiscard]] int64_t now_unix_ms();
// ASCII-only JSON (\uXXXX for everything else), so that it is terminal-safe too.
[[nodiscard]] std::string dump(const nlohmann::json& j, int indent = -1);

}  // namespace cmdgate::cli
