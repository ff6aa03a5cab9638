#pragma once
// Internal to the parser: one rules file, parsed and validated on its own. Top-level settings
// keep their location (and text as written) so load_rules can report conflicts between files;
// rules are in file order, not yet checked for duplicate ids.

#include <chrono>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/result.h"
#include "rules/model.h"
#include "rules/parser.h"

namespace cmdgate::rules {

template <typename T>
struct Located {
  T value;
  std::string text;  // as written in the file, for messages
  SourceLocation where;
};

struct Document {
  std::optional<Located<Mode>> mode;
  std::optional<Located<Action>> default_action;
  std::optional<Located<std::chrono::milliseconds>> ask_timeout;
  std::optional<Located<Action>> timeout_action;
  std::vector<Rule> rules;
  std::vector<SourceLocation> id_where;  // id_where[i]: the value of rules[i].id
};

// "<file>:<line>:<column>"
std::string format_location(const SourceLocation& where);

// Parses and validates one TOML document; `origin` names it in locations and messages.
Result<Document> parse_document(std::string_view toml_text, std::string_view origin,
                                const NameResolver& names);

}  // namespace cmdgate::rules
