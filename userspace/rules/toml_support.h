#pragma once
// Internal to the parser: messages and locations shared by the readers of rules documents
// (document.cpp: settings and rules; declarations.cpp: agents and lists).

#include <toml++/toml.h>

#include <algorithm>
#include <string>
#include <string_view>
#include <tuple>
#include <utility>
#include <vector>

#include "common/result.h"
#include "rules/model.h"

namespace cmdgate::rules {

inline constexpr size_t kMaxShown = 64;  // bytes of a value quoted in a message

// "<file>:<line>:<column>"
std::string format_location(const SourceLocation& where);

// A value quoted for a message: control bytes escaped, long values cut (on a UTF-8 boundary).
inline std::string show(std::string_view text) {
  size_t end = std::min(text.size(), kMaxShown);
  while (end < text.size() && end > 0 && (static_cast<unsigned char>(text[end]) & 0xC0) == 0x80) {
    --end;
  }
  std::string out = "'";
  for (const char c : text.substr(0, end)) {
    const auto byte = static_cast<unsigned char>(c);
    if (byte < 0x20 || byte == 0x7F) {
      out += fmt::format("\\x{:02x}", byte);
    } else {
      out += c;
    }
  }
  out += end < text.size() ? "'..." : "'";
  return out;
}

inline std::string_view type_name(toml::node_type type) {
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

// Where errors happen: the file, and the rule being parsed (message prefix).
class Scope {
 public:
  Scope(std::string_view origin, std::string prefix)
      : origin_(origin), prefix_(std::move(prefix)) {}

  void set_prefix(std::string prefix) { prefix_ = std::move(prefix); }

  // A node's own file: a list's elements may come from another file than the rule using them.
  SourceLocation where(const toml::source_region& region) const {
    return {region.path ? *region.path : std::string(origin_), region.begin.line,
            region.begin.column};
  }
  Error at(const toml::source_region& region, std::string_view what) const {
    return Error::format("{}: {}{}", format_location(where(region)), prefix_, what);
  }
  Error key_error(const toml::node& node, std::string_view key, std::string_view what) const {
    return at(node.source(), fmt::format("key '{}': {}", key, what));
  }
  Error wrong_type(const toml::node& node, std::string_view key, std::string_view expected) const {
    return key_error(node, key,
                     fmt::format("expected {}, got {}", expected, type_name(node.type())));
  }

 private:
  std::string_view origin_;
  std::string prefix_;
};

// A table's entries in the order they appear in the file (toml::table is ordered by key), so
// that the first error reported is the first one in the file.
inline std::vector<std::pair<const toml::key*, const toml::node*>> in_file_order(
    const toml::table& t) {
  std::vector<std::pair<const toml::key*, const toml::node*>> out;
  out.reserve(t.size());
  for (const auto& [key, value] : t) {
    out.emplace_back(&key, &value);
  }
  std::sort(out.begin(), out.end(), [](const auto& a, const auto& b) {
    const auto& pa = a.first->source().begin;
    const auto& pb = b.first->source().begin;
    return std::tie(pa.line, pa.column) < std::tie(pb.line, pb.column);
  });
  return out;
}

inline Result<std::string_view> get_string(const Scope& scope, std::string_view key,
                                           const toml::node& node, std::string_view expected) {
  if (const auto* s = node.as_string()) {
    return std::string_view(s->get());
  }
  return scope.wrong_type(node, key, expected);
}

}  // namespace cmdgate::rules
