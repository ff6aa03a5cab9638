#include "rules/hyperscan_syntax.h"

#include <fmt/format.h>

#include <array>
#include <cstdint>

#include "common/hex.h"

namespace cmdgate::rules {
namespace {

bool is_digit(char c) {
  return c >= '0' && c <= '9';
}
bool is_alnum(char c) {
  return is_digit(c) || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

constexpr std::array<std::string_view, 14> kPosixClasses = {
    "alnum", "alpha", "ascii", "blank", "cntrl", "digit", "graph",
    "lower", "print", "punct", "space", "upper", "word",  "xdigit"};

class Translator {
 public:
  explicit Translator(std::string_view in) : in_(in) {}

  std::optional<std::string> run() {
    while (i_ < in_.size()) {
      if (!atom()) {
        return std::nullopt;
      }
    }
    if (caseless_ && (non_ascii_ || case_class_)) {
      return std::nullopt;
    }
    return std::move(out_);
  }

 private:
  bool at_end() const { return i_ >= in_.size(); }
  char peek(size_t ahead = 0) const { return i_ + ahead < in_.size() ? in_[i_ + ahead] : '\0'; }

  void emit_byte(unsigned char c) {
    if (c >= 0x80) {
      non_ascii_ = true;
    }
    out_ += fmt::format("\\x{:02x}", c);
  }

  // One literal byte outside a class.
  void literal(char c) {
    const auto u = static_cast<unsigned char>(c);
    if (u < 0x20 || u >= 0x7f) {
      emit_byte(u);
    } else if (is_alnum(c) || c == '_' || c == '/' || c == ' ' || c == '-' || c == ',' ||
               c == ':' || c == '=' || c == '@' || c == '%' || c == '&' || c == '!' || c == '~' ||
               c == ';' || c == '"' || c == '\'' || c == '<' || c == '>' || c == '`') {
      out_ += c;
    } else {
      out_ += '\\';
      out_ += c;
    }
  }

  bool atom() {
    const char c = in_[i_++];
    switch (c) {
      case '\\':
        return escape(false);
      case '[':
        return klass();
      case '(':
        return group();
      case '{':
        repeat_or_literal();
        return true;
      case '$':
        out_ += "\\z";
        return true;
      case '^':
      case '.':
      case '|':
      case ')':
      case '*':
      case '+':
      case '?':
        out_ += c;
        return true;
      default:
        literal(c);
        return true;
    }
  }

  // After a backslash. Inside a class the output must stay a class item.
  bool escape(bool in_class) {
    if (at_end()) {
      return false;
    }
    const char c = in_[i_++];
    switch (c) {
      case 'd':
      case 'D':
      case 'w':
      case 'W':
        shorthand_in_class_ |= in_class;
        out_ += '\\';
        out_ += c;
        return true;
      case 'b':
      case 'B':
      case 'A':
      case 'z':
        if (in_class) {
          return false;
        }
        out_ += '\\';
        out_ += c;
        return true;
      case 's':
        shorthand_in_class_ |= in_class;
        out_ += in_class ? "\\x09\\x0a\\x0c\\x0d\\x20" : "[\\x09\\x0a\\x0c\\x0d\\x20]";
        return true;
      case 'S':
        if (in_class) {
          return false;
        }
        out_ += "[^\\x09\\x0a\\x0c\\x0d\\x20]";
        return true;
      case 'a':
        emit_byte(0x07);
        return true;
      case 'f':
        emit_byte(0x0c);
        return true;
      case 't':
        emit_byte(0x09);
        return true;
      case 'n':
        emit_byte(0x0a);
        return true;
      case 'r':
        emit_byte(0x0d);
        return true;
      case 'v':
        emit_byte(0x0b);
        return true;
      case 'x':
        return hex_escape();
      default:
        break;
    }
    const auto u = static_cast<unsigned char>(c);
    if (u < 0x80 && !is_alnum(c)) {  // escaped punctuation or control: a literal in both
      if (u < 0x20 || u == 0x7f) {
        emit_byte(u);
      } else {
        out_ += '\\';
        out_ += c;
      }
      return true;
    }
    return false;  // \p \P \C \Q \E octal, non-ASCII after '\', anything unknown
  }

  bool hex_escape() {
    unsigned value = 0;
    if (peek() == '{') {
      ++i_;
      size_t digits = 0;
      while (!at_end() && peek() != '}') {
        const int h = hex_value(in_[i_++]);
        if (h < 0 || ++digits > 8) {
          return false;
        }
        value = value * 16 + static_cast<unsigned>(h);
      }
      if (at_end() || digits == 0) {
        return false;
      }
      ++i_;  // '}'
    } else {
      const int h1 = hex_value(peek());
      const int h2 = hex_value(peek(1));
      if (h1 < 0 || h2 < 0) {
        return false;
      }
      i_ += 2;
      value = static_cast<unsigned>(h1 * 16 + h2);
    }
    if (value > 0xff) {
      return false;
    }
    emit_byte(static_cast<unsigned char>(value));
    return true;
  }

  bool klass() {
    out_ += '[';
    if (peek() == '^') {
      out_ += '^';
      ++i_;
    }
    if (peek() == ']') {  // a leading ']' is a literal
      out_ += "\\]";
      ++i_;
    }
    shorthand_in_class_ = false;
    bool dash = false;
    while (!at_end() && peek() != ']') {
      const char c = in_[i_++];
      if (c == '\\') {
        if (!escape(true)) {
          return false;
        }
      } else if (c == '[' && peek() == ':') {
        if (!posix_class()) {
          out_ += "\\[";
        }
      } else if (c == '-') {
        dash = true;
        out_ += '-';
      } else if (c == '[' || c == '^') {
        out_ += '\\';
        out_ += c;
      } else {
        const auto u = static_cast<unsigned char>(c);
        if (u < 0x20 || u >= 0x7f) {
          emit_byte(u);
        } else {
          out_ += c;
        }
      }
    }
    if (at_end() || (dash && shorthand_in_class_)) {
      return false;
    }
    ++i_;  // ']'
    out_ += ']';
    return true;
  }

  // At "[:" inside a class (the '[' consumed). Emits and consumes "[:name:]" when it is one.
  bool posix_class() {
    size_t j = i_ + 1;
    const bool negated = j < in_.size() && in_[j] == '^';
    if (negated) {
      ++j;
    }
    const size_t name_start = j;
    while (j < in_.size() && in_[j] != ':' && in_[j] != ']') {
      ++j;
    }
    if (j + 1 >= in_.size() || in_[j] != ':' || in_[j + 1] != ']') {
      return false;
    }
    const std::string_view name = in_.substr(name_start, j - name_start);
    bool known = false;
    for (std::string_view k : kPosixClasses) {
      known |= k == name;
    }
    if (!known) {
      return false;
    }
    case_class_ |= name == "upper" || name == "lower";
    out_ += in_.substr(i_ - 1, j + 2 - (i_ - 1));
    i_ = j + 2;
    return true;
  }

  bool group() {
    if (peek() != '?') {
      out_ += '(';
      return true;
    }
    ++i_;
    if (peek() == ':') {
      ++i_;
      out_ += "(?:";
      return true;
    }
    if (peek() == 'P' && peek(1) == '<') {
      while (!at_end() && peek() != '>') {
        ++i_;
      }
      if (at_end()) {
        return false;
      }
      ++i_;
      out_ += "(?:";
      return true;
    }
    std::string flags;
    while (!at_end() && peek() != ')' && peek() != ':') {
      const char f = in_[i_++];
      if (f != 'i' && f != 's') {
        return false;  // m, U, negation: semantics differ or are unsupported
      }
      caseless_ |= f == 'i';
      flags += f;
    }
    if (at_end() || flags.empty()) {
      return false;
    }
    out_ += "(?";
    out_ += flags;
    out_ += in_[i_++];
    return true;
  }

  // At '{' (consumed): a repetition {n} {n,} {n,m} as RE2 reads it, else a literal brace.
  void repeat_or_literal() {
    size_t j = i_;
    auto digits = [&] {
      const size_t start = j;
      while (j < in_.size() && is_digit(in_[j])) {
        ++j;
      }
      return j > start;
    };
    bool ok = digits();
    if (ok && j < in_.size() && in_[j] == ',') {
      ++j;
      digits();
    }
    ok = ok && j < in_.size() && in_[j] == '}';
    if (!ok) {
      out_ += "\\{";
      return;
    }
    out_ += in_.substr(i_ - 1, j + 1 - (i_ - 1));
    i_ = j + 1;
  }

  std::string_view in_;
  size_t i_ = 0;
  std::string out_;
  bool caseless_ = false;
  bool non_ascii_ = false;
  bool case_class_ = false;
  bool shorthand_in_class_ = false;
};

}  // namespace

std::optional<std::string> translate_for_hyperscan(std::string_view re2_pattern) {
  return Translator(re2_pattern).run();
}

}  // namespace cmdgate::rules
