#pragma once
// The one definition of how rule patterns are compiled, shared by the compiled matchers, the
// reference evaluator and (so that it accepts exactly what compiles) the rules parser.
//
// Byte semantics. Paths, argv and cgroup paths are byte strings that need not be valid UTF-8. In
// RE2's default UTF-8 mode '.', '[^/]' and negated classes only match valid UTF-8 sequences, so
// "/tmp/\xff" would escape the glob "/tmp/*" and "curl \xff| sh" would escape "curl.*sh".
// Patterns are therefore compiled as Latin-1: every byte is one character. A non-ASCII literal
// written in UTF-8 still matches its own bytes; only '?', '.' and classes count bytes rather than
// code points, and \x{...} above \xff is rejected. This is also what Hyperscan does without
// HS_FLAG_UTF8, so both engines agree.
//
// Globs additionally let '.' match '\n' so that '**' really is "any run of characters"; user
// regexes keep RE2's default ('.' stops at '\n'; write (?s) to change it).

#include <re2/re2.h>

#include <cstdint>
#include <memory>
#include <string_view>

namespace cmdgate::rules {

enum class PatternFlavor : uint8_t {
  kRegex,  // a rule's args/cmdline pattern: RE2 syntax, unanchored search
  kGlob,   // the output of glob_to_regex: anchored at both ends
};

[[nodiscard]] RE2::Options re2_options(PatternFlavor flavor);

// One pattern as a stand-alone RE2, for RE2::PartialMatch; null when the pattern is invalid.
//
// Works around a bug in RE2 2022-06 (Debian 12): when it factors a common prefix out of an
// alternation ("a\xc9x|a\xc9y" -> "a\xc9(?:x|y)") the prefix loses the Latin-1 flag, and the
// single-regex prefix accelerator then searches for the prefix's UTF-8 encoding and misses
// matches. RE2::Set has no prefix accelerator and is not affected. A leading "(?s:.)*?" leaves
// nothing to accelerate and does not change what an unanchored search finds. The pattern also
// goes through guard_case_folding() (rules/re2_fold_guard.h), like every RE2 the matchers build.
[[nodiscard]] std::unique_ptr<RE2> compile_single_re2(std::string_view pattern,
                                                      PatternFlavor flavor);

}  // namespace cmdgate::rules
