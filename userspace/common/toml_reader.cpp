#include "common/toml_reader.h"

#include <algorithm>
#include <tuple>

#include "common/duration.h"

namespace cmdgate {

TomlReader TomlReader::section(std::string_view key) const {
  TomlReader inner = *this;
  inner.section_ = fmt::format("{}{}.", section_, key);
  return inner;
}

SourceLocation TomlReader::where(const toml::source_region& region) const {
  return {region.path ? region.path : std::make_shared<const std::string>(origin_),
          region.begin.line, region.begin.column};
}

Error TomlReader::at(const toml::source_region& region, std::string_view what) const {
  return Error::format("{}: {}{}", format_location(where(region)), context_, what);
}

Error TomlReader::unknown_key(const toml::key& key, std::string_view valid_keys) const {
  // A key outside every table and context is where a user forgot a table header above it.
  const bool top_level = section_.empty() && context_.empty();
  return at(key.source(),
            fmt::format("unknown {}key {} (valid keys: {})", top_level ? "top-level " : "",
                        quoted_value(section_ + std::string(key.str())), valid_keys));
}

TomlValue TomlReader::value(std::string_view key, const toml::node& node) const {
  return TomlValue(*this, key, node);
}

Error TomlValue::error(std::string_view what) const {
  return reader_->at(node_->source(), fmt::format("key '{}{}': {}", reader_->section_, key_, what));
}

Error TomlValue::wrong_type(std::string_view expected) const {
  return error(fmt::format("expected {}, got {}", expected, type_name(node_->type())));
}

Result<std::string_view> TomlValue::string(std::string_view expected) const {
  if (const auto* s = node_->as_string()) {
    return std::string_view(s->get());
  }
  return wrong_type(expected);
}

Result<std::string_view> TomlValue::nonempty_string(std::string_view expected) const {
  return parsed(expected, nonempty_text);
}

Result<std::vector<std::string>> TomlValue::strings() const {
  constexpr std::string_view kExpected = "a string or a non-empty array of strings";
  if (const auto* s = node_->as_string()) {
    return std::vector<std::string>{s->get()};
  }
  const auto* array = node_->as_array();
  if (array == nullptr) {
    return wrong_type(kExpected);
  }
  if (array->empty()) {
    return error(fmt::format("expected {}; got an empty array", kExpected));
  }
  std::vector<std::string> out;
  for (const toml::node& e : *array) {
    auto text = element(e).string();
    if (!text) {
      return text.error();
    }
    out.emplace_back(*text);
  }
  return out;
}

Result<std::chrono::milliseconds> TomlValue::duration() const {
  return parsed("a duration string such as \"30s\"", parse_duration);
}

Result<bool> TomlValue::boolean() const {
  if (const auto* b = node_->as_boolean()) {
    return b->get();
  }
  return wrong_type("true or false");
}

Result<const toml::table*> TomlValue::table() const {
  if (const auto* t = node_->as_table()) {
    return t;
  }
  return wrong_type(fmt::format("a table ([{}{}])", reader_->section_, key_));
}

std::string_view type_name(toml::node_type type) {
  switch (type) {
    case toml::node_type::none:
      return "nothing";
    case toml::node_type::table:
      return "a table";
    case toml::node_type::array:
      return "an array";
    case toml::node_type::string:
      return "a string";
    case toml::node_type::integer:
      return "an integer";
    case toml::node_type::floating_point:
      return "a floating-point number";
    case toml::node_type::boolean:
      return "a boolean";
    case toml::node_type::date:
      return "a date";
    case toml::node_type::time:
      return "a time";
    case toml::node_type::date_time:
      return "a date-time";
  }
  return "an unknown type";
}

std::vector<std::pair<const toml::key*, const toml::node*>> in_file_order(
    const toml::table& table) {
  std::vector<std::pair<const toml::key*, const toml::node*>> out;
  out.reserve(table.size());
  for (const auto& [key, value] : table) {
    out.emplace_back(&key, &value);
  }
  std::sort(out.begin(), out.end(), [](const auto& a, const auto& b) {
    const auto& pa = a.first->source().begin;
    const auto& pb = b.first->source().begin;
    return std::tie(pa.line, pa.column) < std::tie(pb.line, pb.column);
  });
  return out;
}

Result<toml::table> parse_toml(std::string_view text, std::string_view origin) {
  toml::parse_result parsed = toml::parse(text, origin);
  if (!parsed) {
    const auto& error = parsed.error();
    return Error::format("{}:{}:{}: TOML syntax error: {}", origin, error.source().begin.line,
                         error.source().begin.column, error.description());
  }
  return std::move(parsed).table();
}

Result<std::string_view> nonempty_text(std::string_view text) {
  if (text.empty()) {
    return Error{"empty string"};
  }
  if (text.find('\0') != std::string_view::npos) {
    return Error::format("{} contains a NUL character", quoted_value(text));
  }
  return text;
}

}  // namespace cmdgate
