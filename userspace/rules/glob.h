#pragma once
// Path and name globs, translated to anchored RE2 patterns so that many globs can be matched in
// one pass (RE2::Set) and none can backtrack.
//   *   any run of characters except '/'
//   **  any run of characters, '/' included
//   ?   one character except '/'
//   [abc] [a-z] [!abc]  one character from (or not from) the class
// Other characters match themselves; '\' escapes the next one.

#include <string>
#include <string_view>

#include "common/result.h"

namespace cmdgate::rules {

// True when text contains an unescaped glob metacharacter.
bool is_glob(std::string_view text);

// The RE2 pattern (anchored at both ends) equivalent to the glob, or an error naming the fault.
Result<std::string> glob_to_regex(std::string_view glob);

// The literal text every match starts with (everything before the first metacharacter).
std::string glob_literal_prefix(std::string_view glob);

// The one string a glob without metacharacters matches (its escapes removed), or the error
// glob_to_regex gives it. Cheaper than glob_to_regex: nothing is compiled.
Result<std::string> glob_literal(std::string_view glob);

// True when the glob is "<literal>**": it matches exactly the strings starting with the literal.
bool glob_is_pure_prefix(std::string_view glob);

}  // namespace cmdgate::rules
