#pragma once
// Rewrites an RE2 pattern (compiled with re2_options()) into a Hyperscan pattern that matches
// exactly the same byte strings, or says it cannot. Hyperscan reads PCRE syntax; the two agree on
// most of it but not all, so this accepts a whitelisted subset and rewrites the known
// differences:
//
//   accepted as is   literals, '.', '|', groups '(' '(?:', quantifiers * + ? {n} {n,} {n,m} and
//                    their lazy forms, '^', \A \z \b \B \d \D \w \W, escaped punctuation,
//                    classes with ranges and [:name:] POSIX classes, flag groups (?i) (?s)
//                    (?i:...) (?s:...), named groups (?P<name>...) (as non-capturing)
//   rewritten        '$' -> \z (PCRE's '$' also matches before a final '\n', RE2's does not)
//                    \s -> [\t\n\f\r ] (PCRE's \s also matches \v)
//                    \v \a \f \t \n \r \xHH \x{HH}, control and non-ASCII bytes -> \xHH
//                    (PCRE's \v is a class; a raw NUL would end Hyperscan's C string)
//                    '{', '}', ']' that RE2 reads as literals -> escaped
//   refused          \p \P \pN (Unicode classes), \C, \Q...\E, octal escapes, (?m) (?U) (?-...),
//                    \S inside a class, a class mixing \d-style escapes with '-' (ranges
//                    against escapes are read differently), and case-insensitive patterns that
//                    contain non-ASCII bytes or [:upper:]/[:lower:] (RE2 folds Latin-1 letters
//                    and POSIX case classes, Hyperscan does not).
//
// A refused pattern is not an error: the caller matches it with RE2 instead.

#include <optional>
#include <string>
#include <string_view>

namespace cmdgate::rules {

[[nodiscard]] std::optional<std::string> translate_for_hyperscan(std::string_view re2_pattern);

}  // namespace cmdgate::rules
