#pragma once
// Bytes that a monitored process chose (argv, paths, comm) -> text that is safe to put on a
// terminal and shows every byte: nothing reaches the terminal that it would interpret (control
// characters, escape sequences) or that hides or reorders text (bidi overrides, zero-width and
// other invisible characters), invalid UTF-8 is shown byte by byte, and the rendering decodes
// back to exactly the original bytes.
//
// Escapes, each starting with a backslash (a literal backslash is \\):
//   \n \r \t        those three controls
//   \xHH            any other C0 control, DEL, and every byte that is not part of valid UTF-8
//   \uHHHH          a code point that is valid UTF-8 but invisible or a control: C1 controls,
//   \UHHHHHHHH      bidi and other format characters, line/paragraph separators, spaces other
//                   than U+0020 (see display_text.cpp for the list)
// Everything else - printable ASCII and other valid UTF-8 - is shown as is.

#include <string>
#include <string_view>

namespace cmdgate {

// Well-formed UTF-8: no overlong forms, surrogates, code points above U+10FFFF or cut sequences.
[[nodiscard]] bool is_utf8(std::string_view bytes);

// The escaped text, unquoted: for free text shown on a line of its own (descriptions, errors).
[[nodiscard]] std::string display_text(std::string_view bytes);

// A value named in an error message: its first 64 bytes (cut on a character boundary) rendered by
// display_text, in single quotes, followed by "..." when cut: 'value' or 'long valu'...
[[nodiscard]] std::string quoted_value(std::string_view bytes);

// One word (an argument, a path) whose boundaries stay visible, written as a POSIX shell would
// need it so that a copy pasted into bash or zsh is the same bytes:
//   rm  /srv/data        bare when only [A-Za-z0-9@%+=:,./_-] (and not empty)
//   'two words'          single quotes when nothing needs escaping; ' is written '\''
//   $'\r\x1b[2K'         ANSI-C quotes when something does; ' is written \'
[[nodiscard]] std::string display_word(std::string_view bytes);

// Words (argv) each rendered by display_word, separated by one space.
template <typename Words>
[[nodiscard]] std::string display_words(const Words& words) {
  std::string out;
  bool first = true;
  for (const auto& w : words) {
    out += first ? "" : " ";
    out += display_word(std::string_view(w));
    first = false;
  }
  return out;
}

}  // namespace cmdgate
