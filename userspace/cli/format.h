#pragma once
// Protocol messages -> JSON (for --json) and -> human text.

#include <cstdint>
#include <string>

#include <nlohmann/json.hpp>

#include "cmdgate.pb.h"

namespace cmdgate::cli {

[[nodiscard]] nlohmann::json to_json(const protocol::ApprovalRequest& r);
[[nodiscard]] nlohmann::json to_json(const protocol::DecisionEvent& e);
[[nodiscard]] nlohmann::json to_json(const protocol::Status& s);
[[nodiscard]] nlohmann::json to_json(const protocol::RequestClosed& c);

[[nodiscard]] std::string command_line(const protocol::ApprovalRequest& r);
// "1m05s", "42s", "-" for negative.
[[nodiscard]] std::string duration_text(int64_t ms);
[[nodiscard]] int64_t now_unix_ms();
// JSON with invalid UTF-8 (attacker-controlled argv) replaced, never an exception.
[[nodiscard]] std::string dump(const nlohmann::json& j, int indent = -1);

}  // namespace cmdgate::cli
