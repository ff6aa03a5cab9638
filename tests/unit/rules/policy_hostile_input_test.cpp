// Inputs an attacker controls can be huge and patterns can be catastrophic for backtracking
// engines. Neither engine backtracks; these must simply return the right answer. No timing
// assertions: a regression shows up as a test that never finishes.

#include <gtest/gtest.h>

#include "policy_test_util.h"
#include "rules/compiled_policy.h"
#include "rules/reference_evaluator.h"

namespace cmdgate::rules {
namespace {

using testing::FakeResolver;
using testing::make_rule;
using testing::OwnedContext;

class HostileInput : public ::testing::TestWithParam<MatchEngine> {
 protected:
  std::shared_ptr<const CompiledPolicy> policy() {
    RuleSet rs;
    rs.rules.push_back(make_rule("nested", Action::kDeny, Match{.args = {"(a+)+$"}}));
    rs.rules.push_back(make_rule("alt", Action::kDeny, Match{.args = {"^(a|aa)*c$"}}));
    rs.rules.push_back(make_rule("words", Action::kDeny, Match{.cmdline = {"^(\\w+\\s?)*!$"}}));
    rs.rules.push_back(make_rule("repeat", Action::kDeny, Match{.cmdline = {"(x+x+)+y"}}));
    rs.rules.push_back(
        make_rule("deep", Action::kDeny, Match{.path_globs = {"/**/**/**/**/**/never"}}));
    rs.rules.push_back(make_rule("marker", Action::kAudit, Match{.args = {"^--marker$"}}));
    FakeResolver resolver;
    auto p = compile_policy(std::move(rs), resolver, {GetParam()});
    EXPECT_TRUE(p.ok());
    return std::move(p).value();
  }

  static std::string decide(const CompiledPolicy& p, OwnedContext& c) {
    const ExecContext& ctx = c.view();
    const Decision d = p.evaluate(ctx);
    EXPECT_EQ(d.rule, evaluate_reference(p.rule_set(), p.resolved_paths(), ctx).rule);
    return d.rule != nullptr ? d.rule->id : "default";
  }
};

INSTANTIATE_TEST_SUITE_P(Engines, HostileInput,
                         ::testing::ValuesIn(testing::engines_under_test()),
                         testing::engine_name);

TEST_P(HostileInput, TenThousandArgsAndLongCmdline) {
  auto p = policy();
  OwnedContext c;
  c.argv = {"prog"};
  for (int i = 0; i < 10000; ++i) {
    c.argv.push_back("xxxxxxxxxx" + std::to_string(i));  // 'x' runs for (x+x+)+y, no 'y'
  }
  const std::string long_a(100000, 'a');
  c.argv.push_back(long_a + "b");  // (a+)+$ against a^n b: exponential for a backtracker
  c.view();
  ASSERT_GE(c.view().cmdline.size(), 128u * 1024);
  EXPECT_EQ(decide(*p, c), "default");
  c.argv.push_back("--marker");
  EXPECT_EQ(decide(*p, c), "marker");
  c.argv.push_back(long_a);
  EXPECT_EQ(decide(*p, c), "nested");
}

TEST_P(HostileInput, PathologicalCmdlineAndPath) {
  auto p = policy();
  OwnedContext c;
  std::string words;
  for (int i = 0; i < 20000; ++i) {
    words += "word ";
  }
  c.argv = {"echo", words};  // ^(\w+\s?)*!$ without the '!'
  c.path.clear();
  for (int i = 0; i < 2000; ++i) {
    c.path += "/a";
  }
  EXPECT_EQ(decide(*p, c), "default");
  c.argv = {"echo", words + "!"};
  EXPECT_EQ(decide(*p, c), "words");
  c.argv = {"echo", std::string(100000, 'x') + "y"};
  EXPECT_EQ(decide(*p, c), "repeat");
}

TEST_P(HostileInput, EmptyAndNulBytes) {
  auto p = policy();
  OwnedContext c;
  c.argv = {"", "", std::string("a\0c", 3)};
  c.path = std::string("/\0never", 7);
  EXPECT_EQ(decide(*p, c), "default");
  c.argv = {"", std::string("aac")};
  EXPECT_EQ(decide(*p, c), "alt");
}

}  // namespace
}  // namespace cmdgate::rules
