// Every TOML file cmdgate reads reports errors through one reader, in one format.

#include "common/toml_reader.h"

#include <gtest/gtest.h>

#include <string>

namespace cmdgate {
namespace {

enum class Colour { kRed, kBlue };
constexpr Words<Colour, 2> kColours{{{{"red", Colour::kRed}, {"blue", Colour::kBlue}}}};

toml::table parsed(std::string_view text) {
  auto root = parse_toml(text, "t.toml");
  EXPECT_TRUE(root) << root.error().message;
  return root ? std::move(*root) : toml::table{};
}

TEST(TomlReader, NamesPlaceContextAndDottedKey) {
  const toml::table root = parsed("[paint]\ncolour = \"green\"\n");
  const TomlReader top("t.toml");
  const TomlReader paint = top.section("paint");
  const TomlValue colour = paint.value("colour", *root["paint"]["colour"].node());
  EXPECT_EQ(colour.word(kColours).error().message,
            "t.toml:2:10: key 'paint.colour': expected one of \"red\", \"blue\"; got 'green'");

  const TomlReader rule("t.toml", "rule 'r': ");
  EXPECT_EQ(rule.value("colour", *root["paint"]["colour"].node()).duration().error().message,
            "t.toml:2:10: rule 'r': key 'colour': invalid duration 'green': expected an integer "
            "followed by one of the units ms, s, m, h (e.g. \"30s\")");
}

TEST(TomlReader, WrongTypesSayWhatWasExpectedAndWhatCame) {
  const toml::table root = parsed("n = 3\nempty = []\nblank = \"\"\n");
  const TomlReader reader("t.toml");
  EXPECT_EQ(reader.value("n", *root["n"].node()).word(kColours).error().message,
            "t.toml:1:5: key 'n': expected one of \"red\", \"blue\", got an integer");
  EXPECT_EQ(reader.value("n", *root["n"].node()).table().error().message,
            "t.toml:1:5: key 'n': expected a table ([n]), got an integer");
  EXPECT_EQ(reader.value("empty", *root["empty"].node()).strings().error().message,
            "t.toml:2:9: key 'empty': expected a string or a non-empty array of strings; got an "
            "empty array");
  EXPECT_EQ(reader.value("blank", *root["blank"].node()).nonempty_string().error().message,
            "t.toml:3:9: key 'blank': empty string");
}

TEST(TomlReader, UnknownKeysListTheValidOnes) {
  const toml::table root = parsed("colour = 1\n[paint]\nshade = 2\n");
  const TomlReader top("t.toml");
  const auto keys = in_file_order(root);
  EXPECT_EQ(top.unknown_key(*keys[0].first, "paint").message,
            "t.toml:1:1: unknown top-level key 'colour' (valid keys: paint)");
  const auto paint = in_file_order(*root["paint"].as_table());
  EXPECT_EQ(top.section("paint").unknown_key(*paint[0].first, "colour").message,
            "t.toml:3:1: unknown key 'paint.shade' (valid keys: colour)");
}

TEST(TomlReader, EntriesInFileOrder) {
  const toml::table root = parsed("b = 1\na = 2\nc = 3\n");
  std::string order;
  for (const auto& [key, value] : in_file_order(root)) {
    order += key->str();
  }
  EXPECT_EQ(order, "bac");
}

TEST(TomlReader, SyntaxErrorsNameThePlace) {
  auto root = parse_toml("a = [", "t.toml");
  ASSERT_FALSE(root);
  EXPECT_EQ(root.error().message.rfind("t.toml:1:", 0), 0u) << root.error().message;
  EXPECT_NE(root.error().message.find(": TOML syntax error: "), std::string::npos);
}

TEST(TomlReader, QuotedValuesAreEscapedAndCut) {
  EXPECT_EQ(quoted_value("a\nb\\"), "'a\\nb\\\\'");
  EXPECT_EQ(quoted_value(std::string(70, 'x')), "'" + std::string(64, 'x') + "'...");
  // Cut before a character that would not fit whole.
  EXPECT_EQ(quoted_value(std::string(63, 'x') + "\xc3\xa9"), "'" + std::string(63, 'x') + "'...");
}

}  // namespace
}  // namespace cmdgate
