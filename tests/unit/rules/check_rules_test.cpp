// check_rules_texts: every error of a set of rules files in one run, each with its place, and no
// policy from files with errors. The loaders report the first of the same errors.

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "parse_fixture.h"
#include "rules/parser.h"

namespace cmdgate::rules {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using testing::kNames;
using ::testing::StartsWith;

std::vector<std::string> messages(const RulesCheck& c) {
  std::vector<std::string> out;
  for (const Error& e : c.errors) {
    out.push_back(e.message);
  }
  return out;
}

RulesCheck check(std::vector<RulesText> texts) {
  return check_rules_texts(texts, kNames);
}

TEST(CheckRules, EveryRuleAndKeyErrorInFileOrder) {
  const std::string text = R"(mode = "sometimes"
[[rule]]
id = "a"
action = "nope"
user = "mallory"
[[rule]]
action = "deny"
[[rule]]
id = "ok"
action = "deny"
path = "/usr/bin/rm"
[[rule]]
id = "b"
action = "deny"
args = '('
)";
  const RulesCheck c = check({{"t.toml", text}});
  EXPECT_THAT(messages(c),
              ElementsAre(StartsWith("t.toml:1:8: key 'mode': expected one of"),
                          StartsWith("t.toml:4:10: rule 'a': key 'action': expected one of"),
                          StartsWith("t.toml:5:8: rule 'a': key 'user': unknown user 'mallory'"),
                          StartsWith("t.toml:6:1: rule #2: missing required key 'id'"),
                          StartsWith("t.toml:15:8: rule 'b': key 'args': invalid regular")));
  EXPECT_EQ(c.unreported, 0u);
  // The rules read without error, for lint only.
  ASSERT_EQ(c.set.rules.size(), 1u);
  EXPECT_EQ(c.set.rules[0].id, "ok");
  // The loader refuses with the first of them.
  auto loaded = parse_rules_texts({{"t.toml", text}}, kNames);
  ASSERT_FALSE(loaded.ok());
  EXPECT_EQ(loaded.error().message, c.errors.front().message);
}

TEST(CheckRules, ARuleWithABadKeyIsNotAlsoMissingIt) {
  // The bad action is the error; "missing required key 'action'" and the misplaced timeout
  // would only echo it.
  const RulesCheck c = check({{"t.toml", "[[rule]]\nid = 'a'\naction = 1\ntimeout = '5s'\n"}});
  EXPECT_THAT(messages(c),
              ElementsAre(StartsWith("t.toml:3:10: rule 'a': key 'action': expected")));
}

TEST(CheckRules, SyntaxErrorsOfEveryFileAndNothingAfter) {
  // The second file's unknown list is not reported: the first file, which might declare it, was
  // not read.
  const RulesCheck c = check({{"a.toml", "x = \n"},
                              {"b.toml", "[[rule]]\nid = 'r'\naction = 'deny'\npath = '@nope'\n"},
                              {"c.toml", "[[rule\n"}});
  EXPECT_THAT(messages(c), ElementsAre(StartsWith("a.toml:1:"), StartsWith("c.toml:1:")));
  EXPECT_TRUE(c.set.rules.empty());
}

TEST(CheckRules, ConflictsAndDuplicatesAcrossFiles) {
  const RulesCheck c = check({{"a.toml", "mode = 'enforce'\n[[rule]]\nid = 'r'\naction = 'deny'\n"},
                              {"b.toml", R"(mode = "monitor"
default_action = "deny"
[[rule]]
id = "r"
action = "allow"
[[rule]]
id = "s"
action = "allow"
)"},
                              {"c.toml", "default_action = 'allow'\n"}});
  EXPECT_THAT(messages(c),
              ElementsAre(HasSubstr("b.toml:1:8: key 'mode': \"monitor\" conflicts"),
                          HasSubstr("b.toml:4:6: rule 'r': key 'id': duplicate rule id"),
                          HasSubstr("c.toml:1:18: key 'default_action': \"allow\" conflicts")));
  EXPECT_EQ(c.set.rules.size(), 2u);
}

std::vector<std::string> ids(const RuleSet& set) {
  std::vector<std::string> out;
  for (const Rule& r : set.rules) {
    out.push_back(r.id);
  }
  return out;
}

// A duplicate is left out wherever it is (in the first file or a later one), the rules around it
// keep their load order, and priorities still reorder them.
TEST(CheckRules, DuplicatesAreLeftOutAndTheRestKeepsItsOrder) {
  const auto rules = [](std::vector<std::pair<std::string, int>> list) {
    std::string text;
    for (const auto& [id, priority] : list) {
      text += fmt::format("[[rule]]\nid = '{}'\naction = 'deny'\npriority = {}\n", id, priority);
    }
    return text;
  };
  const RulesCheck c = check({{"a.toml", rules({{"a", 0}, {"b", 0}, {"a", 0}, {"c", 0}})},
                              {"b.toml", rules({{"d", 0}, {"b", 0}, {"e", 0}})}});
  EXPECT_EQ(c.errors.size(), 2u);
  EXPECT_THAT(ids(c.set), ElementsAre("a", "b", "c", "d", "e"));

  const RulesCheck sorted = check({{"a.toml", rules({{"a", 0}, {"b", 5}, {"a", 9}, {"c", 0}})},
                                   {"b.toml", rules({{"d", 7}, {"e", 5}})}});
  EXPECT_EQ(sorted.errors.size(), 1u);
  EXPECT_THAT(ids(sorted.set), ElementsAre("d", "b", "e", "a", "c"));
}

TEST(CheckRules, TheReportIsBounded) {
  std::string text;
  for (size_t i = 0; i < kMaxReportedErrors + 7; ++i) {
    text += "[[rule]]\nid = 'r" + std::to_string(i) + "'\naction = 'never'\n";
  }
  const RulesCheck c = check({{"t.toml", text}});
  EXPECT_EQ(c.errors.size(), kMaxReportedErrors);
  EXPECT_EQ(c.unreported, 7u);
  EXPECT_THAT(c.errors.back().message,
              HasSubstr("rule 'r" + std::to_string(kMaxReportedErrors - 1) + "'"));
}

TEST(CheckRules, NoErrorsNoDifference) {
  const std::string text = "[[rule]]\nid = 'r'\naction = 'deny'\npath = '/usr/bin/rm'\n";
  const RulesCheck c = check({{"t.toml", text}});
  EXPECT_TRUE(c.errors.empty());
  EXPECT_EQ(c.set.sources, std::vector<std::string>{"t.toml"});
  ASSERT_EQ(c.set.rules.size(), 1u);
  EXPECT_EQ(c.set.rules[0].match.paths, std::vector<std::string>{"/usr/bin/rm"});
}

}  // namespace
}  // namespace cmdgate::rules
