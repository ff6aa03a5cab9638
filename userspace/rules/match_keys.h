#pragma once
// Internal to the parser: the keys of a rule that say which execs it matches (path, args, user,
// agent, ...). Each takes one value or an array, whose elements may name lists ("@shells").

#include <string_view>

#include "common/result.h"
#include "common/toml_reader.h"
#include "rules/document.h"
#include "rules/model.h"
#include "rules/parser.h"

namespace cmdgate::rules {

[[nodiscard]] bool is_match_key(std::string_view key);

// Checks every element of the value of match key value.key() and adds it to `m`.
[[nodiscard]] Status read_match_key(const TomlValue& value, const NameResolver& names,
                                    const Declarations& declared, Match& m);

}  // namespace cmdgate::rules
