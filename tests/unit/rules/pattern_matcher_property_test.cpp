// Every engine must report exactly the patterns that RE2 (with re2_options) matches one by one.
// (This is how the RE2 2022-06 Latin-1 prefix bug described in regex_options.h was found.)

#include <gtest/gtest.h>
#include <re2/re2.h>

#include <set>

#include "policy_test_util.h"
#include "random_patterns.h"
#include "rules/glob.h"
#include "rules/glob_set_matcher.h"
#include "rules/hyperscan_syntax.h"
#include "rules/pattern_matcher.h"

namespace cmdgate::rules {
namespace {

using testing::Random;

class CollectSink final : public MatchSink {
 public:
  void on_match(uint32_t id) override { ids.insert(id); }
  std::set<uint32_t> ids;
};

std::string escaped(std::string_view s) {
  std::string out;
  for (unsigned char c : s) {
    if (c < 0x20 || c >= 0x7f) {
      out += fmt::format("\\x{:02x}", c);
    } else {
      out += static_cast<char>(c);
    }
  }
  return out;
}

class PatternMatcherProperty : public ::testing::TestWithParam<MatchEngine> {};

INSTANTIATE_TEST_SUITE_P(Engines, PatternMatcherProperty,
                         ::testing::ValuesIn(testing::engines_under_test()),
                         testing::engine_name);

TEST_P(PatternMatcherProperty, RegexSetsAgreeWithSingleRe2) {
  const uint64_t seed = testing::test_seed();
  SCOPED_TRACE(fmt::format("CMDGATE_SEED={}", seed));
  Random rnd(seed);
  size_t hs_total = 0;
  int failures = 0;
  const int sets = testing::property_sets(120);
  for (int set = 0; set < sets && failures < 5; ++set) {
    std::vector<std::string> patterns;
    std::vector<std::unique_ptr<RE2>> singles;
    while (patterns.size() < 24) {
      std::string p = rnd.regex();
      auto re = compile_single_re2(p, PatternFlavor::kRegex);
      if (re != nullptr) {
        patterns.push_back(std::move(p));
        singles.push_back(std::move(re));
      }
    }
    auto m = make_pattern_matcher(GetParam(), patterns, PatternFlavor::kRegex);
    ASSERT_TRUE(m.ok()) << m.error().message;
    hs_total += (*m)->stats().hyperscan_patterns;
    for (int t = 0; t < 40 && failures < 5; ++t) {
      const std::string text = rnd.text();
      CollectSink sink;
      (*m)->scan(text, sink);
      for (uint32_t i = 0; i < patterns.size(); ++i) {
        const bool want = RE2::PartialMatch(text, *singles[i]);
        if (want != (sink.ids.count(i) != 0)) {
          ++failures;
          auto hs = translate_for_hyperscan(patterns[i]);
          ADD_FAILURE() << "pattern '" << escaped(patterns[i]) << "' (hyperscan: '"
                        << (hs ? escaped(*hs) : "<refused>") << "') text '" << escaped(text)
                        << "': RE2 says " << want;
        }
      }
    }
  }
  // Hyperscan must take most patterns, or this test would only exercise the RE2 fallback.
  if (GetParam() != MatchEngine::kRe2) {
    EXPECT_GT(hs_total, static_cast<size_t>(sets) * 24 / 3);
  }
}

TEST_P(PatternMatcherProperty, GlobSetsAgreeWithGlobToRegex) {
  const uint64_t seed = testing::test_seed();
  SCOPED_TRACE(fmt::format("CMDGATE_SEED={}", seed));
  Random rnd(seed);
  const RE2::Options options = re2_options(PatternFlavor::kGlob);
  int failures = 0;
  for (int set = 0; set < testing::property_sets(60) && failures < 5; ++set) {
    std::vector<std::string> globs;
    std::vector<std::unique_ptr<RE2>> singles;
    while (globs.size() < 16) {
      std::string g = rnd.glob();
      auto re = glob_to_regex(g);
      ASSERT_TRUE(re.ok()) << g;
      globs.push_back(std::move(g));
      singles.push_back(std::make_unique<RE2>(*re, options));
    }
    auto m = GlobSetMatcher::create(globs, GetParam());
    ASSERT_TRUE(m.ok()) << m.error().message;
    for (int t = 0; t < 60 && failures < 5; ++t) {
      const std::string text = rnd.chance(0.2) ? rnd.text() : rnd.path();
      CollectSink sink;
      (*m)->scan(text, sink);
      for (uint32_t i = 0; i < globs.size(); ++i) {
        const bool want = RE2::FullMatch(text, *singles[i]);
        if (want != (sink.ids.count(i) != 0)) {
          ++failures;
          ADD_FAILURE() << "glob '" << escaped(globs[i]) << "' text '" << escaped(text)
                        << "': RE2 says " << want;
        }
      }
    }
  }
}

// The agreement tests above prove little if their generators rarely (or nearly always) match.
// This draws a fixed sample, whatever CMDGATE_PROPERTY_DIVISOR says, large enough that the
// share of matches cannot stray past these bounds by chance.
TEST(PatternGenerators, ProduceBothOutcomes) {
  const uint64_t seed = testing::test_seed();
  SCOPED_TRACE(fmt::format("CMDGATE_SEED={}", seed));
  Random rnd(seed);
  size_t regex_matches = 0;
  size_t regex_checks = 0;
  for (int i = 0; i < 400; ++i) {
    auto re = compile_single_re2(rnd.regex(), PatternFlavor::kRegex);
    if (re == nullptr) {
      continue;
    }
    for (int t = 0; t < 40; ++t) {
      regex_matches += RE2::PartialMatch(rnd.text(), *re);
      ++regex_checks;
    }
  }
  size_t glob_matches = 0;
  size_t glob_checks = 0;
  const RE2::Options glob_options = re2_options(PatternFlavor::kGlob);
  for (int i = 0; i < 400; ++i) {
    auto regex = glob_to_regex(rnd.glob());
    ASSERT_TRUE(regex.ok());
    const RE2 re(*regex, glob_options);
    for (int t = 0; t < 40; ++t) {
      glob_matches += RE2::FullMatch(rnd.chance(0.2) ? rnd.text() : rnd.path(), re);
      ++glob_checks;
    }
  }
  EXPECT_GT(regex_matches, regex_checks / 10);
  EXPECT_LT(regex_matches, regex_checks * 9 / 10);
  EXPECT_GT(glob_matches, glob_checks / 50);
}

TEST(Re2Workaround, FactoredNonAsciiPrefixStillMatches) {
  // A bare RE2 finds nothing here (RE2 2022-06); the RE2::Set engines never did.
  auto re = compile_single_re2("a\xc9x|a\xc9y", PatternFlavor::kRegex);
  ASSERT_NE(re, nullptr);
  EXPECT_TRUE(RE2::PartialMatch("zza\xc9yzz", *re));
  EXPECT_FALSE(RE2::PartialMatch("zza\xc9zzz", *re));
  EXPECT_EQ(compile_single_re2("a)(b", PatternFlavor::kRegex), nullptr);  // no smuggling
  for (MatchEngine e : {MatchEngine::kRe2, MatchEngine::kHyperscan}) {
    std::vector<std::string> patterns = {"a\xc9x|a\xc9y"};
    auto m = make_pattern_matcher(e, patterns, PatternFlavor::kRegex);
    ASSERT_TRUE(m.ok());
    CollectSink sink;
    (*m)->scan("zza\xc9yzz", sink);
    EXPECT_EQ(sink.ids.size(), 1u);
  }
}

TEST(HyperscanSyntax, RewritesKnownDifferences) {
  EXPECT_EQ(translate_for_hyperscan("a$"), "a\\z");
  EXPECT_EQ(translate_for_hyperscan("[$]"), "[$]");
  EXPECT_EQ(translate_for_hyperscan("\\s"), "[\\x09\\x0a\\x0c\\x0d\\x20]");
  EXPECT_EQ(translate_for_hyperscan("\\v"), "\\x0b");
  EXPECT_EQ(translate_for_hyperscan(std::string_view("a\0b", 3)), "a\\x00b");
  EXPECT_EQ(translate_for_hyperscan("x{,2}"), "x\\{,2\\}");
  EXPECT_EQ(translate_for_hyperscan("a{2,3}?"), "a{2,3}?");
  EXPECT_EQ(translate_for_hyperscan("(?P<name>a)"), "(?:a)");
  EXPECT_EQ(translate_for_hyperscan("\xe9"), "\\xe9");
  for (const char* refused : {"\\pL", "\\C", "\\Qa\\E", "(?m)^a", "(?U)a", "(?-i)a", "[\\S]",
                              "[\\w-]", "(?i)\xe9", "(?i)[[:upper:]]", "\\1", "\\0"}) {
    EXPECT_FALSE(translate_for_hyperscan(refused).has_value()) << refused;
  }
}

}  // namespace
}  // namespace cmdgate::rules
