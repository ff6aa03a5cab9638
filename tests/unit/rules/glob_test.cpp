#include "rules/glob.h"

#include <gtest/gtest.h>
#include <re2/re2.h>

#include <string>
#include <string_view>
#include <utility>

#include "rules/regex_options.h"

namespace cmdgate::rules {
namespace {

bool glob_matches(std::string_view glob, std::string_view text) {
  auto re = glob_to_regex(glob);
  EXPECT_TRUE(re.ok()) << glob;
  return RE2::FullMatch(text, *re);
}

TEST(Glob, StarStaysInOneComponent) {
  EXPECT_TRUE(glob_matches("/usr/bin/*", "/usr/bin/nc"));
  EXPECT_FALSE(glob_matches("/usr/bin/*", "/usr/bin/sub/nc"));
}

TEST(Glob, DoubleStarCrossesComponents) {
  EXPECT_TRUE(glob_matches("/opt/**", "/opt/a/b/c"));
  EXPECT_TRUE(glob_matches("/opt/**/nc", "/opt/x/y/nc"));
  EXPECT_FALSE(glob_matches("/opt/**/nc", "/usr/x/nc"));
}

TEST(Glob, QuestionMarkAndClasses) {
  EXPECT_TRUE(glob_matches("/bin/python3.1?", "/bin/python3.11"));
  EXPECT_FALSE(glob_matches("/bin/python3.1?", "/bin/python3.1/"));
  EXPECT_TRUE(glob_matches("/bin/[bd]ash", "/bin/dash"));
  EXPECT_FALSE(glob_matches("/bin/[!bd]ash", "/bin/dash"));
  EXPECT_TRUE(glob_matches("/bin/[!bd]ash", "/bin/rash"));
}

TEST(Glob, RegexCharactersAreLiteral) {
  EXPECT_TRUE(glob_matches("/usr/bin/g++", "/usr/bin/g++"));
  EXPECT_FALSE(glob_matches("/usr/bin/g++", "/usr/bin/ggg"));
  EXPECT_TRUE(glob_matches("/a.b", "/a.b"));
  EXPECT_FALSE(glob_matches("/a.b", "/axb"));
}

TEST(Glob, EscapesAndErrors) {
  EXPECT_TRUE(glob_matches("/a\\*b", "/a*b"));
  EXPECT_FALSE(glob_matches("/a\\*b", "/axb"));
  EXPECT_FALSE(glob_to_regex("/a[bc").ok());
  EXPECT_FALSE(glob_to_regex("/a\\").ok());
}

TEST(Glob, LiteralPrefixAndPurePrefix) {
  EXPECT_EQ(glob_literal_prefix("/tmp/**"), "/tmp/");
  EXPECT_EQ(glob_literal_prefix("/home/*/bin/x"), "/home/");
  EXPECT_EQ(glob_literal_prefix("**/nc"), "");
  EXPECT_TRUE(glob_is_pure_prefix("/tmp/**"));
  EXPECT_FALSE(glob_is_pure_prefix("/tmp/*"));
  EXPECT_FALSE(glob_is_pure_prefix("/t?p/**"));
  EXPECT_TRUE(is_glob("/a/*"));
  EXPECT_FALSE(is_glob("/a/\\*"));
}

// Calls check(text) for every string of at most max_length characters from alphabet.
template <typename Check>
void for_each_string(std::string_view alphabet, size_t max_length, Check check) {
  std::string text;
  const auto each = [&](auto&& self, size_t length) -> void {
    check(std::as_const(text));
    if (length == 0) {
      return;
    }
    for (const char c : alphabet) {
      text.push_back(c);
      self(self, length - 1);
      text.pop_back();
    }
  };
  each(each, max_length);
}

TEST(Glob, AReversedRangeIsAnErrorNamingTheGlob) {
  auto re = glob_to_regex("/bin/[z-a]sh");
  ASSERT_FALSE(re.ok());
  EXPECT_NE(re.error().message.find("glob '/bin/[z-a]sh'"), std::string::npos)
      << re.error().message;
}

// glob_to_regex compiles only globs with a class: every other translation must compile anyway,
// as the policy compiles it. A NUL and a byte that is not UTF-8 on its own are among the
// characters.
TEST(Glob, EveryGlobWithoutAClassTranslatesToRegexThatCompiles) {
  const std::string alphabet = std::string("/a.\\*?+(]{\xc3") + '\0';
  size_t globs = 0;
  for_each_string(alphabet, 4, [&](const std::string& text) {
    auto regex = glob_to_regex(text);
    if (regex.ok()) {
      ++globs;
      const RE2 compiled(*regex, re2_options(PatternFlavor::kGlob));
      EXPECT_TRUE(compiled.ok()) << text << " -> " << *regex << ": " << compiled.error();
    } else {  // only a lone backslash at the end
      auto literal = glob_literal(text);
      ASSERT_FALSE(literal.ok()) << text;
      EXPECT_EQ(regex.error().message, literal.error().message) << text;
    }
  });
  EXPECT_GT(globs, 18'000u);
}

// glob_literal is what an exact path costs instead of glob_to_regex: for every glob without
// metacharacters both must accept the same texts, and the regex must match the literal.
TEST(Glob, LiteralAgreesWithTheRegex) {
  size_t literals = 0;
  for_each_string("/a.\\*[+", 5, [&](const std::string& text) {
    if (is_glob(text)) {
      return;
    }
    ++literals;
    auto literal = glob_literal(text);
    auto regex = glob_to_regex(text);
    ASSERT_EQ(literal.ok(), regex.ok()) << text;
    if (literal.ok()) {
      EXPECT_TRUE(RE2::FullMatch(*literal, *regex)) << text;
      EXPECT_EQ(*literal, glob_literal_prefix(text)) << text;
    } else {
      EXPECT_EQ(literal.error().message, regex.error().message);
    }
  });
  EXPECT_GT(literals, 1000u);
}

}  // namespace
}  // namespace cmdgate::rules
