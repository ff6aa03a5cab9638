#include "rules/re2_fold_guard.h"

#include <fmt/format.h>

#include <vector>

#include "common/hex.h"

namespace cmdgate::rules {
namespace {

bool is_ascii_letter(unsigned c) {
  const unsigned lower = c | 0x20u;
  return lower >= 'a' && lower <= 'z';
}
bool is_octal(char c) {
  return c >= '0' && c <= '7';
}
bool is_word(char c) {
  return (c >= '0' && c <= '9') || is_ascii_letter(static_cast<unsigned char>(c)) || c == '_';
}

// Walks the pattern as RE2 reads it, tracking where (?i) is in force. Input that RE2 would
// refuse is copied through unchanged: the caller validated the original already.
class FoldGuard {
 public:
  explicit FoldGuard(std::string_view in) : in_(in) { caseless_.push_back(false); }

  std::string run() {
    while (i_ < in_.size()) {
      step();
    }
    return std::move(out_);
  }

 private:
  [[nodiscard]] char peek(size_t ahead = 0) const {
    return i_ + ahead < in_.size() ? in_[i_ + ahead] : '\0';
  }
  [[nodiscard]] std::string_view since(size_t start) const { return in_.substr(start, i_ - start); }

  // One literal byte, spelled as in the pattern.
  void literal(unsigned value, std::string_view spelled) {
    if (caseless_.back() && is_ascii_letter(value)) {
      guarded(spelled);
    } else {
      out_ += spelled;
    }
  }
  void guarded(std::string_view atom) {
    out_ += "(?:";
    out_ += atom;
    out_ += "|\\x00)";
  }

  void step() {
    const size_t start = i_;
    const char c = in_[i_++];
    switch (c) {
      case '\\':
        escape(start);
        return;
      case '[':
        klass(start);
        return;
      case '(':
        group();
        return;
      case ')':
        out_ += ')';
        if (caseless_.size() > 1) {
          caseless_.pop_back();
        }
        return;
      default:
        literal(static_cast<unsigned char>(c), since(start));
    }
  }

  void escape(size_t start) {
    if (i_ >= in_.size()) {
      out_ += since(start);
      return;
    }
    const char c = in_[i_++];
    if (c == 'Q') {
      quoted();
    } else if (c == 'x') {
      hex(start);
    } else if (is_octal(c)) {
      // RE2 reads up to three octal digits (a lone \1-\7 would be a backreference: refused).
      unsigned value = static_cast<unsigned>(c - '0');
      for (int k = 0; k < 2 && is_octal(peek()); ++k) {
        value = value * 8 + static_cast<unsigned>(in_[i_++] - '0');
      }
      literal(value, since(start));
    } else if ((c == 'p' || c == 'P') && peek() == '{') {
      skip_past('}');
      out_ += since(start);
    } else if (c == 'p' || c == 'P') {
      i_ += i_ < in_.size() ? 1 : 0;
      out_ += since(start);
    } else {
      out_ += since(start);  // \d \b \n \. ...: never a letter RE2 folds
    }
  }

  void hex(size_t start) {
    unsigned value = 0;
    if (peek() == '{') {
      ++i_;
      while (i_ < in_.size() && in_[i_] != '}') {
        const int h = hex_value(in_[i_++]);
        value = value * 16 + static_cast<unsigned>(h < 0 ? 0 : h);
        if (value > 0xffu) {
          value = 0x100;  // not a byte, hence no letter
        }
      }
      i_ += i_ < in_.size() ? 1 : 0;
    } else {
      for (int k = 0; k < 2 && hex_value(peek()) >= 0; ++k) {
        value = value * 16 + static_cast<unsigned>(hex_value(in_[i_++]));
      }
    }
    literal(value, since(start));
  }

  // After "\Q": literal text up to "\E" or the end. Re-spelled outside \Q so that letters can be
  // guarded one by one.
  void quoted() {
    while (i_ < in_.size()) {
      if (in_[i_] == '\\' && peek(1) == 'E') {
        i_ += 2;
        return;
      }
      const auto byte = static_cast<unsigned char>(in_[i_++]);
      if (is_word(static_cast<char>(byte))) {
        literal(byte, std::string(1, static_cast<char>(byte)));
      } else {
        out_ += fmt::format("\\x{:02x}", byte);
      }
    }
  }

  // At '[' (consumed): the whole class, guarded. A leading ']' (after an optional '^') is a
  // member, as are escapes and [:name:] classes.
  void klass(size_t start) {
    if (peek() == '^') {
      ++i_;
    }
    if (peek() == ']') {
      ++i_;
    }
    while (i_ < in_.size() && in_[i_] != ']') {
      if (in_[i_] == '\\') {
        i_ += 2;
        if (i_ <= in_.size() && (in_[i_ - 1] == 'x' || in_[i_ - 1] == 'p' || in_[i_ - 1] == 'P') &&
            peek() == '{') {
          skip_past('}');
        }
      } else if (in_[i_] == '[' && peek(1) == ':') {
        const size_t close = in_.find(":]", i_ + 2);
        i_ = close == std::string_view::npos ? i_ + 1 : close + 2;
      } else {
        ++i_;
      }
    }
    if (i_ >= in_.size()) {
      i_ = in_.size();
      out_ += since(start);  // unterminated: RE2 refuses it anyway
      return;
    }
    ++i_;  // ']'
    guarded(since(start));
  }

  // At '(' (consumed).
  void group() {
    const size_t start = i_ - 1;
    if (peek() != '?' || peek(1) == ':' || peek(1) == 'P') {
      if (peek() == '?' && peek(1) == 'P') {
        skip_past('>');
      } else if (peek() == '?') {
        i_ += 2;
      }
      out_ += since(start);
      caseless_.push_back(caseless_.back());
      return;
    }
    ++i_;  // '?'
    bool caseless = caseless_.back();
    bool negated = false;
    while (i_ < in_.size() && in_[i_] != ')' && in_[i_] != ':') {
      const char f = in_[i_++];
      if (f == '-') {
        negated = true;
      } else if (f == 'i') {
        caseless = !negated;
      }
    }
    if (i_ >= in_.size()) {
      out_ += since(start);
      return;
    }
    const bool scoped = in_[i_++] == ':';
    out_ += since(start);
    if (scoped) {
      caseless_.push_back(caseless);
    } else {
      caseless_.back() = caseless;  // (?i) holds to the end of the enclosing group
    }
  }

  void skip_past(char c) {
    while (i_ < in_.size() && in_[i_] != c) {
      ++i_;
    }
    i_ += i_ < in_.size() ? 1 : 0;
  }

  std::string_view in_;
  size_t i_ = 0;
  std::string out_;
  std::vector<bool> caseless_;  // per open group
};

}  // namespace

std::string guard_case_folding(std::string_view re2_pattern) {
  return FoldGuard(re2_pattern).run();
}

}  // namespace cmdgate::rules
