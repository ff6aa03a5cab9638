#pragma once
// Typed values out of a parsed TOML document: the one reader of every TOML file cmdgate reads
// (rules files, the daemon's config file), so that all of them report errors alike:
//
//   <file>:<line>:<column>: <context>key '<key>': <what>
//
// <context> names what is being read when the key alone does not ("rule 'ssh': "); <key> is
// dotted below a section ("kernel.pin_dir"). A wrong type reads "expected <what>, got <type>",
// a wrong value "expected <what>; got '<value>'", an unknown key "unknown key '<key>' (valid
// keys: ...)".

#include <toml++/toml.h>

#include <chrono>
#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "common/result.h"
#include "common/source_location.h"
#include "common/words.h"

namespace cmdgate {

class TomlValue;

// Where the values being read are: the document, the section and the context.
class TomlReader {
 public:
  explicit TomlReader(std::string_view origin, std::string context = "")
      : origin_(origin), context_(std::move(context)) {}

  // A reader of the table under `key`, whose keys are named "<key>.<name>".
  [[nodiscard]] TomlReader section(std::string_view key) const;
  void set_context(std::string context) { context_ = std::move(context); }

  // A node's own file, which may not be the document's: a rule may use a list another file
  // declares.
  [[nodiscard]] SourceLocation where(const toml::source_region& region) const;
  [[nodiscard]] Error at(const toml::source_region& region, std::string_view what) const;
  [[nodiscard]] Error unknown_key(const toml::key& key, std::string_view valid_keys) const;
  // Not to outlive this reader.
  [[nodiscard]] TomlValue value(std::string_view key, const toml::node& node) const;

 private:
  friend class TomlValue;

  std::string_view origin_;
  std::string section_;  // "kernel." in [kernel]
  std::string context_;
};

// The value of one key, or one element of it, and the ways to read it.
class TomlValue {
 public:
  [[nodiscard]] const toml::node& node() const { return *node_; }
  [[nodiscard]] std::string_view key() const { return key_; }
  [[nodiscard]] SourceLocation where() const { return reader_->where(node_->source()); }
  // An element of this value's array, read as a value of the same key.
  [[nodiscard]] TomlValue element(const toml::node& node) const {
    return TomlValue(*reader_, key_, node);
  }

  [[nodiscard]] Error error(std::string_view what) const;
  // `expected` says what the key takes: "an absolute path string".
  [[nodiscard]] Error wrong_type(std::string_view expected) const;

  [[nodiscard]] Result<std::string_view> string(std::string_view expected = "a string") const;
  // A string that is neither empty nor holds a NUL character.
  [[nodiscard]] Result<std::string_view> nonempty_string(
      std::string_view expected = "a string") const;
  // One string, or a non-empty array of strings.
  [[nodiscard]] Result<std::vector<std::string>> strings() const;
  [[nodiscard]] Result<std::chrono::milliseconds> duration() const;
  [[nodiscard]] Result<bool> boolean() const;
  [[nodiscard]] Result<const toml::table*> table() const;

  template <typename T, size_t N>
  [[nodiscard]] Result<T> word(const Words<T, N>& words) const {
    if (node_->as_string() == nullptr) {  // the list of words is only spelt out for an error
      return wrong_type(fmt::format("one of {}", words.list()));
    }
    return parsed({}, [&words](std::string_view text) { return words.read(text); });
  }
  // A string that `parse` (std::string_view -> Result<T>) makes a value of.
  template <typename Parse>
  [[nodiscard]] auto parsed(std::string_view expected, Parse parse) const
      -> decltype(parse(std::string_view())) {
    auto text = string(expected);
    if (!text) {
      return text.error();
    }
    auto value = parse(*text);
    if (!value) {
      return error(value.error().message);
    }
    return value;
  }
  // An integer that `check` (int64_t -> Result<T>) makes a value of.
  template <typename Check>
  [[nodiscard]] auto integer(Check check) const -> decltype(check(int64_t{})) {
    const auto* integer = node_->as_integer();
    if (integer == nullptr) {
      return wrong_type("an integer");
    }
    auto value = check(integer->get());
    if (!value) {
      return error(value.error().message);
    }
    return value;
  }

 private:
  friend class TomlReader;
  TomlValue(const TomlReader& reader, std::string_view key, const toml::node& node)
      : reader_(&reader), key_(key), node_(&node) {}

  const TomlReader* reader_;
  std::string_view key_;
  const toml::node* node_;
};

// "a string", "an integer", ...
[[nodiscard]] std::string_view type_name(toml::node_type type);

// A table's entries in the order they appear in the file (toml::table is ordered by key), so
// that the first error reported is the first one in the file.
[[nodiscard]] std::vector<std::pair<const toml::key*, const toml::node*>> in_file_order(
    const toml::table& table);

// TOML syntax only; `origin` names the document in the locations of its nodes.
[[nodiscard]] Result<toml::table> parse_toml(std::string_view text, std::string_view origin);

// `text` unless it is empty or holds a NUL character, which no name or path can.
[[nodiscard]] Result<std::string_view> nonempty_text(std::string_view text);

}  // namespace cmdgate
