#include "common/display_text.h"

#include <algorithm>
#include <array>
#include <cstdint>
#include <optional>

namespace cmdgate {
namespace {

struct Range {
  char32_t first;
  char32_t last;
};

// Valid code points a terminal would act on or draw as nothing, or as something that passes for
// a plain space: C1 controls, Unicode format characters (Cf: bidi embeddings, overrides and
// isolates, zero-width characters, tags, ...), line and paragraph separators, every space other
// than U+0020, and invisible fillers and variation selectors. Sorted, for the binary search.
constexpr std::array kEscapedCodePoints = {
    Range{0x0080, 0x00A0},   Range{0x00AD, 0x00AD},   Range{0x034F, 0x034F},
    Range{0x0600, 0x0605},   Range{0x061C, 0x061C},   Range{0x06DD, 0x06DD},
    Range{0x070F, 0x070F},   Range{0x0890, 0x0891},   Range{0x08E2, 0x08E2},
    Range{0x115F, 0x1160},   Range{0x1680, 0x1680},   Range{0x17B4, 0x17B5},
    Range{0x180B, 0x180F},   Range{0x2000, 0x200F},   Range{0x2028, 0x202F},
    Range{0x205F, 0x206F},   Range{0x3000, 0x3000},   Range{0x3164, 0x3164},
    Range{0xFE00, 0xFE0F},   Range{0xFEFF, 0xFEFF},   Range{0xFFA0, 0xFFA0},
    Range{0xFFF9, 0xFFFB},   Range{0xFFFE, 0xFFFF},   Range{0x110BD, 0x110BD},
    Range{0x110CD, 0x110CD}, Range{0x13430, 0x1343F}, Range{0x1BCA0, 0x1BCA3},
    Range{0x1D173, 0x1D17A}, Range{0xE0000, 0xE0FFF},
};

static_assert(std::is_sorted(kEscapedCodePoints.begin(), kEscapedCodePoints.end(),
                             [](Range a, Range b) { return a.last < b.first; }));

bool escaped_code_point(char32_t cp) {
  const auto it = std::lower_bound(kEscapedCodePoints.begin(), kEscapedCodePoints.end(), cp,
                                   [](Range r, char32_t c) { return r.last < c; });
  return it != kEscapedCodePoints.end() && it->first <= cp;
}

struct Decoded {
  char32_t cp;
  size_t length;
};

bool continuation(unsigned char b) {
  return (b & 0xC0) == 0x80;
}

// The well-formed sequences of the Unicode standard (table 3-7): the second byte's range
// depends on the first, which is what rules out overlong forms, surrogates (ED A0..BF) and
// code points above U+10FFFF. nullopt: the first byte does not start a well-formed sequence.
std::optional<Decoded> decode(std::string_view s, size_t i) {
  const auto b0 = static_cast<unsigned char>(s[i]);
  if (b0 < 0x80) {
    return Decoded{b0, 1};
  }
  size_t length = 0;
  unsigned char lo = 0x80;
  unsigned char hi = 0xBF;
  if (b0 >= 0xC2 && b0 <= 0xDF) {
    length = 2;
  } else if (b0 >= 0xE0 && b0 <= 0xEF) {
    length = 3;
    lo = b0 == 0xE0 ? 0xA0 : 0x80;
    hi = b0 == 0xED ? 0x9F : 0xBF;
  } else if (b0 >= 0xF0 && b0 <= 0xF4) {
    length = 4;
    lo = b0 == 0xF0 ? 0x90 : 0x80;
    hi = b0 == 0xF4 ? 0x8F : 0xBF;
  } else {
    return std::nullopt;
  }
  if (s.size() - i < length) {
    return std::nullopt;
  }
  const auto b1 = static_cast<unsigned char>(s[i + 1]);
  if (b1 < lo || b1 > hi) {
    return std::nullopt;
  }
  char32_t cp = b0 & (0xFF >> (length + 1));
  for (size_t k = 1; k < length; ++k) {
    const auto b = static_cast<unsigned char>(s[i + k]);
    if (!continuation(b)) {
      return std::nullopt;
    }
    cp = (cp << 6) | (b & 0x3F);
  }
  return Decoded{cp, length};
}

constexpr char kHex[] = "0123456789abcdef";

void append_hex(std::string& out, uint32_t value, int digits) {
  for (int shift = (digits - 1) * 4; shift >= 0; shift -= 4) {
    out += kHex[(value >> shift) & 0xF];
  }
}

// s with the escapes of display_text.h, appended to out. `quote`: inside $'...', where the quote
// itself must be escaped too.
void append_escaped(std::string& out, std::string_view s, bool quote) {
  for (size_t i = 0; i < s.size();) {
    const auto d = decode(s, i);
    if (!d) {
      out += "\\x";
      append_hex(out, static_cast<unsigned char>(s[i]), 2);
      ++i;
      continue;
    }
    const char32_t cp = d->cp;
    if (cp == '\\') {
      out += "\\\\";
    } else if (cp == '\'' && quote) {
      out += "\\'";
    } else if (cp == '\n') {
      out += "\\n";
    } else if (cp == '\r') {
      out += "\\r";
    } else if (cp == '\t') {
      out += "\\t";
    } else if (cp < 0x20 || cp == 0x7F) {
      out += "\\x";
      append_hex(out, cp, 2);
    } else if (escaped_code_point(cp)) {
      out += cp > 0xFFFF ? "\\U" : "\\u";
      append_hex(out, cp, cp > 0xFFFF ? 8 : 4);
    } else {
      out.append(s.substr(i, d->length));
    }
    i += d->length;
  }
}

// True when some byte of s would be escaped (backslash and quote aside).
bool needs_escapes(std::string_view s) {
  for (size_t i = 0; i < s.size();) {
    const auto d = decode(s, i);
    if (!d || d->cp < 0x20 || d->cp == 0x7F || escaped_code_point(d->cp)) {
      return true;
    }
    i += d->length;
  }
  return false;
}

bool bare_word(std::string_view s) {
  return !s.empty() && std::all_of(s.begin(), s.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
           std::string_view("@%+=:,./_-").find(c) != std::string_view::npos;
  });
}

}  // namespace

bool is_utf8(std::string_view bytes) {
  for (size_t i = 0; i < bytes.size();) {
    const auto d = decode(bytes, i);
    if (!d) {
      return false;
    }
    i += d->length;
  }
  return true;
}

std::string display_text(std::string_view bytes) {
  std::string out;
  out.reserve(bytes.size());
  append_escaped(out, bytes, false);
  return out;
}

std::string quoted_value(std::string_view bytes) {
  constexpr size_t kMaxQuoted = 64;  // enough to recognise a value, short enough for one line
  size_t end = std::min(bytes.size(), kMaxQuoted);
  while (end < bytes.size() && end > 0 && continuation(static_cast<unsigned char>(bytes[end]))) {
    --end;
  }
  return "'" + display_text(bytes.substr(0, end)) + (end < bytes.size() ? "'..." : "'");
}

std::string display_word(std::string_view bytes) {
  if (bare_word(bytes)) {
    return std::string(bytes);
  }
  std::string out;
  out.reserve(bytes.size() + 3);
  if (needs_escapes(bytes)) {
    out += "$'";
    append_escaped(out, bytes, true);
    out += '\'';
    return out;
  }
  // Inside single quotes nothing is special but the quote, so a backslash stays as it is.
  out += '\'';
  for (char c : bytes) {
    out += c == '\'' ? std::string_view("'\\''") : std::string_view(&c, 1);
  }
  out += '\'';
  return out;
}

}  // namespace cmdgate
