#pragma once
// Bytes a monitored process chose (argv, paths) in JSON, exactly. JSON strings are UTF-8, so a
// field NAME holds the bytes when they are UTF-8 and their display_text form otherwise (readable,
// not the bytes); then a sibling NAME_base64 holds the exact bytes (for a list: every element,
// when any one is not UTF-8). A reader takes NAME_base64 when present, else NAME. The CLI's
// --json output and the decision log both follow this (docs/cli.md, docs/decision-log.md).

#include <nlohmann/json.hpp>

#include <string>
#include <string_view>
#include <vector>

#include "common/display_text.h"
#include "common/result.h"

namespace cmdgate {

[[nodiscard]] std::string base64(std::string_view bytes);

// Free text in a JSON string: itself when UTF-8, else its display_text form.
[[nodiscard]] nlohmann::json json_text(std::string_view bytes);

void put_bytes(nlohmann::json& j, const std::string& key, std::string_view bytes);

template <typename Strings>
void put_bytes_list(nlohmann::json& j, const std::string& key, const Strings& list) {
  nlohmann::json texts = nlohmann::json::array();
  bool exact = true;
  for (const auto& s : list) {
    texts.push_back(json_text(std::string_view(s)));
    exact = exact && is_utf8(std::string_view(s));
  }
  j[key] = std::move(texts);
  if (!exact) {
    nlohmann::json raw = nlohmann::json::array();
    for (const auto& s : list) {
      raw.push_back(base64(std::string_view(s)));
    }
    j[key + "_base64"] = std::move(raw);
  }
}

// The bytes put_bytes wrote under `key` (an error naming the key when it is missing or not as
// written).
[[nodiscard]] Result<std::string> read_bytes(const nlohmann::json& j, const std::string& key);
[[nodiscard]] Result<std::vector<std::string>> read_bytes_list(const nlohmann::json& j,
                                                               const std::string& key);

}  // namespace cmdgate
