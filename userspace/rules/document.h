#pragma once
// Internal to the parser: one rules file, parsed and validated on its own. Top-level settings
// keep their location (and text as written) so load_rules can report conflicts between files;
// rules are in file order, not yet checked for duplicate ids.
//
// Agents and lists may be declared in any loaded file and used in any other, so every file's
// declarations are read first (read_lists, then read_agents, over all files), then each file's
// settings and rules (parse_document).

#include <chrono>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/error_list.h"
#include "common/result.h"
#include "common/toml_reader.h"
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

// A named list ([lists] name = [...]); its values stay in the parsed document, which outlives it.
struct ListDecl {
  const toml::array* values = nullptr;
  SourceLocation where;
};

// What every loaded file declares.
struct Declarations {
  std::map<std::string, ListDecl, std::less<>> lists;
  std::vector<AgentDecl> agents;  // in load order; bit = index
};

// Adds the document's [lists] to d; a name declared twice is an error naming both places.
Status read_lists(const toml::table& root, std::string_view origin, Declarations& d);
// Adds the document's [[agent]] tables to d (after every document's lists are read).
Status read_agents(const toml::table& root, std::string_view origin, Declarations& d);

// The values a key's value stands for: the value itself or the elements of its array, where
// each string "@name" is replaced by the elements of list `name`. Fails on an unknown list.
Result<std::vector<TomlValue>> expand_values(const TomlValue& value, const Declarations& d);

// Validates one document's settings and rules; [lists] and [[agent]] were read before. Each
// error goes to `errors`, and reading goes on with the next top-level key, rule or rule key; a
// rule with an error is not in the result.
Document parse_document(const toml::table& root, std::string_view origin,
                        const NameResolver& names, const Declarations& d, ErrorList& errors);

}  // namespace cmdgate::rules
