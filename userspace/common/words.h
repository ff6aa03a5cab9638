#pragma once
// A value written as one of a few words ("enforce", "monitor"): one table reads the word, names
// the value and lists the choices in messages, wherever the value is written (rules files, the
// daemon's config file, command-line flags).

#include <array>
#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <utility>

#include "common/display_text.h"
#include "common/result.h"

namespace cmdgate {

template <typename T, size_t N>
struct Words {
  std::array<std::pair<std::string_view, T>, N> words;

  [[nodiscard]] constexpr std::optional<T> parse(std::string_view text) const {
    for (const auto& [word, value] : words) {
      if (word == text) {
        return value;
      }
    }
    return std::nullopt;
  }
  // As parse, failing with a message that names the choices.
  [[nodiscard]] Result<T> read(std::string_view text) const {
    if (auto value = parse(text)) {
      return *value;
    }
    return Error::format("expected one of {}; got {}", list(), quoted_value(text));
  }
  // "?" for a value the table does not name.
  [[nodiscard]] constexpr std::string_view name(T value) const {
    for (const auto& [word, v] : words) {
      if (v == value) {
        return word;
      }
    }
    return "?";
  }
  // "\"a\", \"b\"": each as a TOML string, for messages.
  [[nodiscard]] std::string list() const {
    std::string out;
    for (const auto& [word, value] : words) {
      out += (out.empty() ? "\"" : ", \"") + std::string(word) + "\"";
    }
    return out;
  }
};

}  // namespace cmdgate
