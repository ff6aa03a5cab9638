#pragma once
// Works around a bug in RE2 2022-06 (Debian 12) that makes a pattern miss matches.
//
// RE2 keeps a case-insensitive ASCII letter ("(?i:a)", or a class "[Aa]", which it rewrites to
// one) as a literal flagged for case folding. When an alternation merges single-character
// branches into one class ("b|a|(?i:a)" -> "[ab...]"), adding a folded letter whose lower-case
// form is already in the class adds nothing: RE2 stops before adding the upper-case form. So
// "a|(?i:a)", "[ab]|(?i:A)" and "a|[Aa]" never match "A", and "ab|a(?i:b)" never matches "aB".
// RE2::Set and single RE2s are both affected; Hyperscan is not.
//
// The guard rewrites a valid pattern so that RE2 never builds such a literal: each ASCII letter
// under (?i) (written plainly, as \xHH, in octal or inside \Q...\E) and each bracket class X
// becomes "(?:X|\x00)". That branch is merged into an empty class, where folding works, and
// yields a class, never a folded literal. The extra NUL matches nothing the rules look at (argv,
// paths and cgroup paths are C strings), so the rewritten pattern matches exactly the same texts.
// Patterns are validated in their original form, so errors quote what the user wrote.

#include <string>
#include <string_view>

namespace cmdgate::rules {

[[nodiscard]] std::string guard_case_folding(std::string_view re2_pattern);

}  // namespace cmdgate::rules
