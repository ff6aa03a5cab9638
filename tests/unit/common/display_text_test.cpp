// What an approver sees of a monitored process's bytes: terminal-safe, every byte shown, and
// decodable back to exactly those bytes.

#include "common/display_text.h"

#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <optional>
#include <random>
#include <string>
#include <vector>

namespace cmdgate {
namespace {

using namespace std::string_literals;

// The inverse of display_text (and of the inside of $'...'), written independently of it.
std::optional<std::string> undisplay(std::string_view s) {
  auto hex = [](std::string_view digits) -> std::optional<uint32_t> {
    uint32_t v = 0;
    for (char c : digits) {
      const auto pos = std::string_view("0123456789abcdef").find(c);
      if (pos == std::string_view::npos) {
        return std::nullopt;
      }
      v = v * 16 + static_cast<uint32_t>(pos);
    }
    return v;
  };
  auto utf8 = [](uint32_t cp) {
    std::string o;
    if (cp < 0x80) {
      o += static_cast<char>(cp);
    } else if (cp < 0x800) {
      o += static_cast<char>(0xC0 | (cp >> 6));
      o += static_cast<char>(0x80 | (cp & 0x3F));
    } else if (cp < 0x10000) {
      o += static_cast<char>(0xE0 | (cp >> 12));
      o += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
      o += static_cast<char>(0x80 | (cp & 0x3F));
    } else {
      o += static_cast<char>(0xF0 | (cp >> 18));
      o += static_cast<char>(0x80 | ((cp >> 12) & 0x3F));
      o += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
      o += static_cast<char>(0x80 | (cp & 0x3F));
    }
    return o;
  };
  std::string out;
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] != '\\') {
      out += s[i];
      continue;
    }
    if (++i == s.size()) {
      return std::nullopt;
    }
    const char e = s[i];
    const size_t digits = e == 'x' ? 2 : e == 'u' ? 4 : e == 'U' ? 8 : 0;
    if (digits != 0) {
      const auto v = hex(s.substr(i + 1, digits));
      if (!v || s.size() - i - 1 < digits) {
        return std::nullopt;
      }
      out += e == 'x' ? std::string(1, static_cast<char>(*v)) : utf8(*v);
      i += digits;
    } else if (e == 'n' || e == 'r' || e == 't') {
      out += e == 'n' ? '\n' : e == 'r' ? '\r' : '\t';
    } else if (e == '\\' || e == '\'') {
      out += e;
    } else {
      return std::nullopt;
    }
  }
  return out;
}

// Nothing a terminal acts on: no C0 control, no DEL, no byte outside valid UTF-8.
void expect_terminal_safe(const std::string& shown) {
  EXPECT_TRUE(is_utf8(shown)) << shown;
  for (unsigned char c : shown) {
    EXPECT_TRUE(c >= 0x20 && c != 0x7F) << "byte " << int{c} << " in " << shown;
  }
}

TEST(DisplayText, EscapeSequencesAreShownNotSent) {
  EXPECT_EQ(display_text("\r\x1b[2K"), "\\r\\x1b[2K");
  EXPECT_EQ(display_text("a\nb\tc"), "a\\nb\\tc");
  EXPECT_EQ(display_text("\x1b]0;title\x07"), "\\x1b]0;title\\x07");
  EXPECT_EQ(display_text("\x7f"), "\\x7f");
  EXPECT_EQ(display_text("\x01\x1f"), "\\x01\\x1f");
  EXPECT_EQ(display_text("nul\0in"s), "nul\\x00in");
}

TEST(DisplayText, C1ControlsAreCodePointsWhenEncodedAndBytesWhenRaw) {
  EXPECT_EQ(display_text("\xc2\x9b"
                         "2K"),
            "\\u009b2K");  // CSI as a code point
  EXPECT_EQ(display_text("\xc2\x85"), "\\u0085");
  EXPECT_EQ(display_text("\x9b"
                         "2K"),
            "\\x9b2K");  // a lone byte: not UTF-8
}

TEST(DisplayText, InvalidUtf8IsShownByteByByte) {
  EXPECT_EQ(display_text("\xff\xfe"), "\\xff\\xfe");
  EXPECT_EQ(display_text("\x80"), "\\x80");                             // stray continuation byte
  EXPECT_EQ(display_text("\xc0\xaf"), "\\xc0\\xaf");                    // overlong '/'
  EXPECT_EQ(display_text("\xc1\xbf"), "\\xc1\\xbf");                    // overlong
  EXPECT_EQ(display_text("\xe0\x80\xaf"), "\\xe0\\x80\\xaf");           // overlong, three bytes
  EXPECT_EQ(display_text("\xf0\x80\x80\xaf"), "\\xf0\\x80\\x80\\xaf");  // overlong, four bytes
  EXPECT_EQ(display_text("\xed\xa0\x80"), "\\xed\\xa0\\x80");           // surrogate U+D800
  EXPECT_EQ(display_text("\xed\xbf\xbf"), "\\xed\\xbf\\xbf");           // surrogate U+DFFF
  EXPECT_EQ(display_text("\xf4\x90\x80\x80"), "\\xf4\\x90\\x80\\x80");  // above U+10FFFF
  EXPECT_EQ(display_text("\xf5\x80\x80\x80"), "\\xf5\\x80\\x80\\x80");
  EXPECT_EQ(display_text("\xe2\x82"), "\\xe2\\x82");  // cut at the end
  EXPECT_EQ(display_text("\xe2\x82"
                         "A"),
            "\\xe2\\x82A");  // cut before ASCII
  EXPECT_EQ(display_text("\xf0\x9f\x98"
                         "\xc3\xa9"),
            "\\xf0\\x9f\\x98\xc3\xa9");  // cut, then é
  EXPECT_FALSE(is_utf8("\xed\xa0\x80"));
  EXPECT_FALSE(is_utf8("\xc0\x80"));
  EXPECT_FALSE(is_utf8("\xe2\x82"));
  EXPECT_TRUE(is_utf8("\xf4\x8f\xbf\xbf"));  // U+10FFFF, the last code point
}

TEST(DisplayText, BidiAndInvisibleCharactersAreEscaped) {
  EXPECT_EQ(display_text("ls \xe2\x80\xae"
                         "fdp.exe"),
            "ls \\u202efdp.exe");                                           // RLO
  EXPECT_EQ(display_text("\xe2\x80\x8b"), "\\u200b");                       // zero width space
  EXPECT_EQ(display_text("\xe2\x80\x8d"), "\\u200d");                       // zero width joiner
  EXPECT_EQ(display_text("\xe2\x81\xa6x\xe2\x81\xa9"), "\\u2066x\\u2069");  // isolates
  EXPECT_EQ(display_text("\xd8\x9c"), "\\u061c");                           // Arabic letter mark
  EXPECT_EQ(display_text("\xef\xbb\xbf"), "\\ufeff");                       // BOM / ZWNBSP
  EXPECT_EQ(display_text("\xe2\x80\xa8"), "\\u2028");                       // line separator
  EXPECT_EQ(display_text("a\xc2\xa0"
                         "b"),
            "a\\u00a0b");                                      // no-break space passes for a space
  EXPECT_EQ(display_text("\xc2\xad"), "\\u00ad");              // soft hyphen
  EXPECT_EQ(display_text("\xf3\xa0\x81\x81"), "\\U000e0041");  // tag 'A', invisible
}

TEST(DisplayText, PrintableTextIsKeptAsIs) {
  EXPECT_EQ(display_text("/usr/bin/rm -rf /srv/data"), "/usr/bin/rm -rf /srv/data");
  EXPECT_EQ(display_text("caf\xc3\xa9"), "caf\xc3\xa9");                            // é
  EXPECT_EQ(display_text("\xe6\xbc\xa2\xe5\xad\x97"), "\xe6\xbc\xa2\xe5\xad\x97");  // CJK
  EXPECT_EQ(display_text("\xf0\x9f\x98\x80"), "\xf0\x9f\x98\x80");                  // emoji
  EXPECT_EQ(display_text("it's ~ $HOME"), "it's ~ $HOME");
}

TEST(DisplayText, ABackslashCannotPassForAnEscape) {
  EXPECT_EQ(display_text("\\"), "\\\\");
  EXPECT_EQ(display_text("\\x1b"), "\\\\x1b");
  EXPECT_NE(display_text("\\x1b"), display_text("\x1b"));
  EXPECT_NE(display_text("\\u202e"), display_text("\xe2\x80\xae"));
  EXPECT_NE(display_text("\\xff"), display_text("\xff"));
}

TEST(DisplayText, EveryByteStringDecodesBackExactlyAndIsTerminalSafe) {
  std::mt19937 rng(7);
  // Biased towards the bytes that matter: controls, backslash, UTF-8 lead and continuation bytes.
  const std::string alphabet =
      "a\\'\x1b\r\n\t\x7f\x80\xbf\xc2\xc3\xa9\xe2\x80\xae\xed\xa0\xf0\x9f\xf4\x90\xff"s;
  for (int round = 0; round < 20000; ++round) {
    std::string s(rng() % 12, '\0');
    for (auto& c : s) {
      c = rng() % 4 == 0 ? static_cast<char>(rng()) : alphabet[rng() % alphabet.size()];
    }
    const std::string shown = display_text(s);
    ASSERT_EQ(undisplay(shown), s) << shown;
    expect_terminal_safe(shown);
    const std::string word = display_word(s);
    expect_terminal_safe(word);
    if (word.starts_with("$'")) {
      ASSERT_EQ(undisplay(std::string_view(word).substr(2, word.size() - 3)), s) << word;
    }
  }
}

TEST(DisplayWord, BareOnlyWhenNothingCouldBeMisread) {
  EXPECT_EQ(display_word("rm"), "rm");
  EXPECT_EQ(display_word("-rf"), "-rf");
  EXPECT_EQ(display_word("/srv/data"), "/srv/data");
  EXPECT_EQ(display_word("user@host:a,b=c%d+e_f.g"), "user@host:a,b=c%d+e_f.g");
  EXPECT_EQ(display_word(""), "''");
  EXPECT_EQ(display_word("a b"), "'a b'");
  EXPECT_EQ(display_word("trailing "), "'trailing '");
  EXPECT_EQ(display_word("$HOME"), "'$HOME'");
  EXPECT_EQ(display_word("*"), "'*'");
  EXPECT_EQ(display_word("~"), "'~'");
  EXPECT_EQ(display_word("a\\b"), "'a\\b'");  // single quotes keep a backslash literal
  EXPECT_EQ(display_word("caf\xc3\xa9"), "'caf\xc3\xa9'");
}

TEST(DisplayWord, QuotesInsideQuotes) {
  EXPECT_EQ(display_word("it's"), "'it'\\''s'");
  EXPECT_EQ(display_word("'"), "''\\'''");
}

TEST(DisplayWord, AnsiCQuotesWhenSomethingIsEscaped) {
  EXPECT_EQ(display_word("\r\x1b[2K"), "$'\\r\\x1b[2K'");
  EXPECT_EQ(display_word("\xff\xfe"), "$'\\xff\\xfe'");
  EXPECT_EQ(display_word("it's\n"), "$'it\\'s\\n'");
  EXPECT_EQ(display_word("a\\b\t"), "$'a\\\\b\\t'");
  EXPECT_EQ(display_word("\xe2\x80\xae"
                         "txt.sh"),
            "$'\\u202etxt.sh'");
}

TEST(DisplayWord, ArgumentBoundariesAreVisible) {
  const std::vector<std::string> two{"rm", "-rf /"};
  const std::vector<std::string> three{"rm", "-rf", "/"};
  EXPECT_EQ(display_words(two), "rm '-rf /'");
  EXPECT_EQ(display_words(three), "rm -rf /");
  EXPECT_EQ(display_words(std::vector<std::string>{"a", "", "b"}), "a '' b");
  EXPECT_EQ(display_words(std::vector<std::string>{}), "");
  EXPECT_EQ(display_words(std::vector<std::string>{"echo", "\r\x1b[2K", "\xff\xfe"}),
            "echo $'\\r\\x1b[2K' $'\\xff\\xfe'");
}

// A word copied from the prompt into bash is the argument the process had.
TEST(DisplayWord, BashReadsEveryWordBackAsTheOriginalBytes) {
  if (::access("/bin/bash", X_OK) != 0) {
    GTEST_SKIP() << "no /bin/bash";
  }
  const std::vector<std::string> words = {"plain",
                                          "",
                                          "a b",
                                          "it's",
                                          "'",
                                          "a\\b",
                                          "$HOME",
                                          "\r\x1b[2K",
                                          "\xff\xfe",
                                          "it's\n\\",
                                          "\xe2\x80\xae"
                                          "fdp.exe",
                                          "caf\xc3\xa9",
                                          "\xc2\x85",
                                          "\xf3\xa0\x81\x81",
                                          "\x7f",
                                          "\xed\xa0\x80",
                                          "x\xe2\x82"
                                          "A",
                                          "\\x41\\u0041"};
  std::string script = "printf '%s\\0'";
  for (const std::string& w : words) {
    script += " " + display_word(w);
  }
  int out[2];
  ASSERT_EQ(::pipe(out), 0);
  const pid_t pid = ::fork();
  if (pid == 0) {
    ::dup2(out[1], 1);
    ::close(out[0]);
    ::setenv("LC_ALL", "C.UTF-8", 1);
    ::execl("/bin/bash", "bash", "--norc", "--noprofile", "-c", script.c_str(), nullptr);
    ::_exit(127);
  }
  ::close(out[1]);
  std::string got;
  char buf[4096];
  ssize_t n;
  while ((n = ::read(out[0], buf, sizeof(buf))) > 0) {
    got.append(buf, static_cast<size_t>(n));
  }
  ::close(out[0]);
  int status = 0;
  ::waitpid(pid, &status, 0);
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << script;
  std::vector<std::string> back;
  for (size_t start = 0, end; (end = got.find('\0', start)) != std::string::npos; start = end + 1) {
    back.push_back(got.substr(start, end - start));
  }
  EXPECT_EQ(back, words) << script;
}

}  // namespace
}  // namespace cmdgate
