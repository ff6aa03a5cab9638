// The guard against RE2 2022-06 dropping the other case of a folded letter merged into an
// alternation's class (rules/re2_fold_guard.h). Found by PatternMatcherProperty with
// CMDGATE_SEED=31691440999373: "[ab]|(?i:A)" did not match "A" in RE2.

#include "rules/re2_fold_guard.h"

#include <gtest/gtest.h>
#include <re2/re2.h>

#include <set>
#include <string>
#include <vector>

#include "rules/pattern_matcher.h"
#include "rules/regex_options.h"

namespace cmdgate::rules {
namespace {

class CollectSink final : public MatchSink {
 public:
  void on_match(uint32_t id) override { ids.insert(id); }
  std::set<uint32_t> ids;
};

struct Case {
  std::string pattern;
  std::string text;
  bool matches;
};

// Each of the matching cases is missed by a bare RE2 2022-06.
const std::vector<Case> kCases = {
    {"a|(?i:a)", "A", true},
    {"[ab]|(?i:A)", "A", true},
    {"b|a|(?i:a)", "xAx", true},
    {"a|[Aa]", "A", true},
    {"x|[aA]", "A", true},
    {"ab|a(?i:b)", "aB", true},
    {"a|(?i:\\x41)", "A", true},
    {"a|(?i:\\101)", "A", true},
    {"a|(?i)a", "A", true},
    {"a|(?i)\\Qa\\E", "A", true},
    {"a|(?i:[a])", "A", true},
    {"(?:a|(?i:a))x", "Ax", true},
    {"rm -(?:f|(?i:f))", "rm -F", true},
    // What must still not match: the guard adds no case the pattern did not ask for.
    {"a|(?i:b)", "A", false},
    {"(?i:a(?-i)b)", "AB", false},
    {"(?i:a)b|c", "AB", false},
    {"[Aa]x", "AX", false},
    {"\\Qa.b\\E", "axb", false},
};

TEST(Re2FoldGuard, FoldedLettersMergedIntoAClassKeepBothCases) {
  for (const Case& c : kCases) {
    SCOPED_TRACE(c.pattern + " on " + c.text);
    auto single = compile_single_re2(c.pattern, PatternFlavor::kRegex);
    ASSERT_NE(single, nullptr);
    EXPECT_EQ(RE2::PartialMatch(c.text, *single), c.matches);
    for (MatchEngine e : {MatchEngine::kRe2, MatchEngine::kHyperscan}) {
      std::vector<std::string> patterns = {c.pattern};
      auto m = make_pattern_matcher(e, patterns, PatternFlavor::kRegex);
      ASSERT_TRUE(m.ok()) << m.error().message;
      CollectSink sink;
      (*m)->scan(c.text, sink);
      EXPECT_EQ(sink.ids.size(), c.matches ? 1u : 0u);
    }
  }
}

TEST(Re2FoldGuard, RewritesOnlyFoldedLettersAndClasses) {
  EXPECT_EQ(guard_case_folding("curl -sS http://x"), "curl -sS http://x");
  EXPECT_EQ(guard_case_folding("(?i)ab"), "(?i)(?:a|\\x00)(?:b|\\x00)");
  EXPECT_EQ(guard_case_folding("(?i:a)b"), "(?i:(?:a|\\x00))b");
  EXPECT_EQ(guard_case_folding("(?i:a(?-i)b)c"), "(?i:(?:a|\\x00)(?-i)b)c");
  EXPECT_EQ(guard_case_folding("((?i)a)b"), "((?i)(?:a|\\x00))b");
  EXPECT_EQ(guard_case_folding("(?i)\\x41\\d1"), "(?i)(?:\\x41|\\x00)\\d1");
  EXPECT_EQ(guard_case_folding("(?P<n>a)(?i)\\pL"), "(?P<n>a)(?i)\\pL");
  EXPECT_EQ(guard_case_folding("[Aa]+"), "(?:[Aa]|\\x00)+");
  EXPECT_EQ(guard_case_folding("[^]a][[:alpha:]\\]]"), "(?:[^]a]|\\x00)(?:[[:alpha:]\\]]|\\x00)");
  EXPECT_EQ(guard_case_folding("\\Qa.b\\E+"), "a\\x2eb+");
  EXPECT_EQ(guard_case_folding("(?i)\\Qa1\\E"), "(?i)(?:a|\\x00)1");
  EXPECT_EQ(guard_case_folding("a{2,3}"), "a{2,3}");
}

TEST(Re2FoldGuard, GuardedPatternsMatchTheSameTexts) {
  // The NUL branch is the only thing added, and no rule ever matches a text holding a NUL.
  const std::vector<std::string> patterns = {"(?i)curl.*\\|\\s*(?:ba)?sh",
                                             "^/usr/(?:local/)?bin/[a-z]+$", "(?i:rm)\\s+-[rRf]+",
                                             "\\Q(x)\\E|[[:upper:]]{2}", "(?i)\\x{53}udo"};
  const std::vector<std::string> texts = {"CURL http://x | sh",
                                          "/usr/bin/ls",
                                          "/usr/local/bin/Ls",
                                          "RM -Rf /",
                                          "(x)",
                                          "AB",
                                          "SUDO",
                                          "sudo",
                                          "Sudo",
                                          "curl x | bash",
                                          "",
                                          "rm -q"};
  for (const std::string& p : patterns) {
    const RE2 plain(p, re2_options(PatternFlavor::kRegex));
    const RE2 guarded(guard_case_folding(p), re2_options(PatternFlavor::kRegex));
    ASSERT_TRUE(guarded.ok()) << guard_case_folding(p);
    for (const std::string& t : texts) {
      EXPECT_EQ(RE2::PartialMatch(t, plain), RE2::PartialMatch(t, guarded)) << p << " on " << t;
    }
  }
}

}  // namespace
}  // namespace cmdgate::rules
