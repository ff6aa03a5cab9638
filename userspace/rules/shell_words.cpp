// Words and their expansions, as bash performs them on a `bash -c` line: quotes, backslashes,
// $'...', parameters, ~, and the commands of $(...), `...` and <(...), which run before the
// command whose word they are part of.

#include <string>

#include "rules/shell_parser.h"

namespace cmdgate::rules::shell {

Status Parser::word(WordBuilder& b) {
  const size_t start = i_;
  while (!eof()) {
    const char c = peek();
    if ((c == '<' || c == '>') && peek(1) == '(' && i_ == start) {
      // Process substitution: the command runs, the word is a path to its pipe.
      i_ += 2;
      if (Status s = nested(')'); !s) {
        return s;
      }
      b.literal("/dev/fd/63");
      continue;
    }
    if (is_meta(c)) {
      break;
    }
    Status s;
    switch (c) {
      case '\\':
        if (peek(1) == '\n') {  // line continuation
          i_ += 2;
        } else if (i_ + 1 < s_.size()) {
          b.literal(s_.substr(i_ + 1, 1));
          i_ += 2;
        } else {
          b.literal("\\");
          ++i_;
        }
        break;
      case '\'':
        s = single_quoted(b);
        break;
      case '"':
        ++i_;
        s = double_quoted(b);
        break;
      case '$':
        s = dollar(b, false);
        break;
      case '`':
        s = backquoted(b);
        break;
      case '~':
        if (i_ == start) {
          tilde(b);
          break;
        }
        [[fallthrough]];
      default:
        b.literal(s_.substr(i_, 1));
        ++i_;
    }
    if (!s) {
      return s;
    }
  }
  return {};
}

Status Parser::single_quoted(WordBuilder& b) {
  const size_t close = s_.find('\'', i_ + 1);
  if (close == std::string_view::npos) {
    return fail("unterminated single quote");
  }
  b.literal(s_.substr(i_ + 1, close - i_ - 1));
  i_ = close + 1;
  return {};
}

// After the opening quote; consumes the closing one.
Status Parser::double_quoted(WordBuilder& b) {
  b.mark_present();
  while (!eof()) {
    const char c = peek();
    if (c == '"') {
      ++i_;
      return {};
    }
    Status s;
    if (c == '\\') {
      const char n = peek(1);
      if (n == '\n') {
        i_ += 2;
      } else if (n == '$' || n == '`' || n == '"' || n == '\\') {
        b.literal(std::string_view(&n, 1));
        i_ += 2;
      } else {
        b.literal("\\");
        ++i_;
      }
    } else if (c == '$') {
      s = dollar(b, true);
    } else if (c == '`') {
      s = backquoted(b);
    } else {
      b.literal(s_.substr(i_, 1));
      ++i_;
    }
    if (!s) {
      return s;
    }
  }
  return fail("unterminated double quote");
}

Status Parser::dollar(WordBuilder& b, bool quoted) {
  const size_t start = i_;
  const char n = peek(1);
  if (n == '(' && peek(2) == '(') {
    if (Status s = skip_arithmetic(); !s) {
      return s;
    }
    b.expansion(s_.substr(start, i_ - start), true, quoted);
    return {};
  }
  if (n == '(') {
    i_ += 2;
    if (Status s = nested(')'); !s) {
      return s;
    }
    b.expansion(s_.substr(start, i_ - start), true, quoted);
    return {};
  }
  if (n == '{') {
    return braced_parameter(b, quoted);
  }
  if (n == '\'' && !quoted) {
    return ansi_c_quoted(b);
  }
  if (n == '"' && !quoted) {  // $"..." (translated text): the text itself
    i_ += 2;
    return double_quoted(b);
  }
  if (is_name_start(n)) {
    size_t end = i_ + 1;
    while (end < s_.size() && is_name_char(s_[end])) {
      ++end;
    }
    const std::string_view name = s_.substr(i_ + 1, end - i_ - 1);
    i_ = end;
    parameter(b, name, quoted);
    return {};
  }
  if ((n >= '0' && n <= '9') || n == '@' || n == '*' || n == '#' || n == '?' || n == '$' ||
      n == '!' || n == '-') {
    i_ += 2;
    parameter(b, s_.substr(start + 1, 1), quoted);
    return {};
  }
  b.literal("$");  // a lone $ is itself
  ++i_;
  return {};
}

void Parser::parameter(WordBuilder& b, std::string_view name, bool quoted) {
  const auto& pos = env_.positional;
  if (name.size() == 1 && name[0] >= '0' && name[0] <= '9') {
    const size_t k = static_cast<size_t>(name[0] - '0');
    if (k < pos.size()) {
      b.expansion(pos[k].text, pos[k].unknown, quoted);
    }
    return;
  }
  if (name == "@" || name == "*") {
    for (size_t k = 1; k < pos.size(); ++k) {
      if (k > 1 && quoted && name == "@") {
        b.break_word();
      } else if (k > 1) {
        b.expansion(" ", false, quoted);
      }
      b.expansion(pos[k].text, pos[k].unknown, quoted);
    }
    return;
  }
  if (name == "#") {
    b.expansion(std::to_string(pos.empty() ? 0 : pos.size() - 1), false, quoted);
    return;
  }
  const auto it = env_.vars.find(std::string(name));
  if (name == "?" || name == "$" || name == "!" || name == "-" ||
      (it != env_.vars.end() && !it->second)) {
    b.expansion(fmt::format("${}", name), true, quoted);
  } else if (it != env_.vars.end()) {
    b.expansion(*it->second, false, quoted);
  }  // unset: nothing, as in bash
}

Status Parser::braced_parameter(WordBuilder& b, bool quoted) {
  const size_t start = i_;
  size_t depth = 0;
  for (i_ += 1; !eof(); ++i_) {
    const char c = peek();
    if (c == '\\') {
      ++i_;
    } else if (c == '{') {
      ++depth;
    } else if (c == '}' && --depth == 0) {
      break;
    }
  }
  if (eof()) {
    return fail("unterminated ${");
  }
  const std::string_view inner = s_.substr(start + 2, i_ - start - 2);
  ++i_;
  bool simple = !inner.empty() && is_name_start(inner[0]);
  for (const char c : inner) {
    simple = simple && is_name_char(c);
  }
  if (simple || (inner.size() == 1 && std::string_view("0123456789@*#?$!-").find(inner[0]) !=
                                           std::string_view::npos)) {
    parameter(b, inner, quoted);
  } else {
    // ${X:-word}, ${#X}, ${X/a/b}...: not evaluated; the value is unknown.
    b.expansion(s_.substr(start, i_ - start), true, quoted);
  }
  return {};
}

Status Parser::backquoted(WordBuilder& b) {
  const size_t start = i_;
  std::string inner;
  for (++i_; !eof() && peek() != '`'; ++i_) {
    if (peek() == '\\' && (peek(1) == '`' || peek(1) == '\\' || peek(1) == '$')) {
      ++i_;
    }
    inner += peek();
  }
  if (eof()) {
    return fail("unterminated backquote");
  }
  ++i_;
  if (depth_ >= kMaxNesting) {
    return fail("commands nested too deep");
  }
  Parser sub(inner, env_, out_, depth_ + 1);
  if (Status s = sub.list(0); !s) {
    return Error::format("in `...` at byte {}: {}", start, s.error().message);
  }
  b.expansion(s_.substr(start, i_ - start), true, false);
  return {};
}

Status Parser::ansi_c_quoted(WordBuilder& b) {
  i_ += 2;
  std::string text;
  auto digits = [&](int base, size_t max) {
    unsigned value = 0;
    size_t n = 0;
    for (; n < max && !eof(); ++n, ++i_) {
      const char c = peek();
      const int d = (c >= '0' && c <= '9')                ? c - '0'
                    : (base == 16 && c >= 'a' && c <= 'f') ? c - 'a' + 10
                    : (base == 16 && c >= 'A' && c <= 'F') ? c - 'A' + 10
                                                           : 99;
      if (d >= base) {
        break;
      }
      value = value * static_cast<unsigned>(base) + static_cast<unsigned>(d);
    }
    return std::make_pair(value, n);
  };
  while (!eof() && peek() != '\'') {
    if (peek() != '\\') {
      text += peek();
      ++i_;
      continue;
    }
    const char e = peek(1);
    i_ += 2;
    switch (e) {
      case 'a': text += '\a'; break;
      case 'b': text += '\b'; break;
      case 'e': case 'E': text += '\x1b'; break;
      case 'f': text += '\f'; break;
      case 'n': text += '\n'; break;
      case 'r': text += '\r'; break;
      case 't': text += '\t'; break;
      case 'v': text += '\v'; break;
      case 'x': {
        const auto [v, n] = digits(16, 2);
        text += n == 0 ? std::string("\\x") : std::string(1, static_cast<char>(v));
        break;
      }
      case 'c':
        text += static_cast<char>(peek() & 0x1f);
        ++i_;
        break;
      default:
        if (e >= '0' && e <= '7') {
          --i_;
          text += static_cast<char>(digits(8, 3).first & 0xff);
        } else if (e == '\\' || e == '\'' || e == '"' || e == '?') {
          text += e;
        } else {  // \u, \U and unknown escapes stay as written
          text += '\\';
          text += e;
        }
    }
  }
  if (eof()) {
    return fail("unterminated $'...'");
  }
  ++i_;
  b.literal(text);
  return {};
}

// $((...)) or ((...)): arithmetic, not evaluated; skipped to the matching "))".
Status Parser::skip_arithmetic() {
  const size_t start = i_;
  int depth = 0;
  for (; !eof(); ++i_) {
    if (peek() == '(') {
      ++depth;
    } else if (peek() == ')' && --depth == 0) {
      ++i_;
      return {};
    }
  }
  i_ = start;
  return fail("unterminated arithmetic ((...))");
}

void Parser::tilde(WordBuilder& b) {
  size_t end = i_ + 1;
  while (end < s_.size() && s_[end] != '/' && !is_meta(s_[end])) {
    ++end;
  }
  const std::string_view user = s_.substr(i_ + 1, end - i_ - 1);
  if (user.empty()) {
    const auto it = env_.vars.find("HOME");
    const bool known = it != env_.vars.end() && it->second;
    b.literal(known ? std::string_view(*it->second) : std::string_view("~"), !known);
  } else {
    b.literal(s_.substr(i_, end - i_), true);  // another user's home: not looked up
  }
  i_ = end;
}

// The body of an unquoted here-document expands like a double-quoted word: its $(...) run.
Status Parser::expand_heredoc_body() {
  WordBuilder b(false);
  while (!eof()) {
    Status s;
    if (peek() == '\\') {
      i_ += 2;
    } else if (peek() == '$') {
      s = dollar(b, true);
    } else if (peek() == '`') {
      s = backquoted(b);
    } else {
      ++i_;
    }
    if (!s) {
      return s;
    }
  }
  return {};
}

}  // namespace cmdgate::rules::shell
