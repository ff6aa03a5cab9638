#pragma once
// A parked request as one JSON object, for programs and services that tell a person about it.
// Every byte the requesting process chose is escaped (common/display_text.h), so the object is
// valid UTF-8 and safe to show.

#include <nlohmann/json.hpp>

#include "park/pending_table.h"

namespace cmdgate {

[[nodiscard]] nlohmann::json request_json(const PendingRequest& r);

}  // namespace cmdgate
