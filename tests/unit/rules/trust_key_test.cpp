// trust = "package": parsed into Match::trust; a rule with it holds for a file the daemon found
// to be a package's unmodified file, fails for any other, and might hold when that is unknown.
// The kernel cannot tell, so such a file is the daemon's until it has been judged.

#include <gtest/gtest.h>

#include "parse_fixture.h"
#include "policy_test_util.h"
#include "rules/compiled_policy.h"
#include "rules/kernel_verdicts.h"
#include "rules/reference_evaluator.h"

namespace cmdgate::rules {
namespace {

using testing::FakeResolver;
using testing::OwnedContext;

constexpr std::string_view kAllowlist = R"(
default_action = "deny"

[[rule]]
id = "packaged"
action = "allow"
trust = "package"

[[rule]]
id = "local-tool"
action = "allow"
path = "/usr/local/bin/*"
)";

TEST(TrustKey, ParsesIntoTheMatch) {
  const RuleSet set = testing::parse_ok(kAllowlist);
  ASSERT_EQ(set.rules.size(), 2u);
  EXPECT_EQ(set.rules[0].match.trust, kTrustPackage);
  EXPECT_TRUE(set.rules[0].match.has_file_predicate());
  EXPECT_EQ(set.rules[1].match.trust, 0);
}

class TrustPolicy : public ::testing::TestWithParam<MatchEngine> {
 protected:
  void SetUp() override {
    auto p = compile_policy(testing::parse_ok(kAllowlist), resolver_, {GetParam()});
    ASSERT_TRUE(p.ok()) << p.error().message;
    policy_ = std::move(p).value();
  }

  // "<rule id or default> <action>[ uncertain]", after checking that the reference agrees.
  std::string outcome(OwnedContext& c) const {
    const ExecContext& ctx = c.view();
    const Decision d = policy_->evaluate(ctx);
    const Decision ref = evaluate_reference(policy_->rule_set(), policy_->resolved_paths(), ctx);
    EXPECT_EQ(d.rule, ref.rule);
    EXPECT_EQ(d.action, ref.action);
    EXPECT_EQ(d.uncertain, ref.uncertain);
    return fmt::format("{} {}{}", d.rule != nullptr ? d.rule->id : "default", to_string(d.action),
                       d.uncertain ? " uncertain" : "");
  }

  FakeResolver resolver_;
  std::shared_ptr<const CompiledPolicy> policy_;
};

INSTANTIATE_TEST_SUITE_P(Engines, TrustPolicy,
                         ::testing::Values(MatchEngine::kRe2, MatchEngine::kHyperscan),
                         testing::engine_name);

TEST_P(TrustPolicy, OnlyAVouchedForFileMatches) {
  EXPECT_TRUE(policy_->needs() & kNeedTrust);
  OwnedContext c;
  c.path = "/usr/bin/env";
  c.trust = kTrustPackage;
  EXPECT_EQ(outcome(c), "packaged allow");
  c.trust = 0;  // modified, or owned by no package
  EXPECT_EQ(outcome(c), "default deny");
  c.path = "/usr/local/bin/tool";
  EXPECT_EQ(outcome(c), "local-tool allow");
}

TEST_P(TrustPolicy, UnknownTrustIsNeitherTrustedNorUntrusted) {
  OwnedContext c;
  c.path = "/usr/bin/env";
  c.trust = kTrustPackage;  // what an unread file's bits happen to say is not read
  c.unknown = kUnknownTrust;
  EXPECT_EQ(outcome(c), "default deny");
  // A deny that may hold wins over the allow that holds.
  RuleSet rs = testing::parse_ok(R"(
[[rule]]
id = "no-packaged-shells-for-bob"
action = "deny"
trust = "package"
user = "bob"

[[rule]]
id = "rest"
action = "allow"
)");
  auto p = compile_policy(std::move(rs), resolver_, {GetParam()});
  ASSERT_TRUE(p.ok());
  c.uid = 1001;
  c.trust = 0;
  EXPECT_EQ((*p)->evaluate(c.view()).rule->id, "no-packaged-shells-for-bob");
  EXPECT_TRUE((*p)->evaluate(c.view()).uncertain);
  c.unknown = 0;
  EXPECT_EQ((*p)->evaluate(c.view()).rule->id, "rest");
}

TEST_P(TrustPolicy, TheKernelLeavesTrustToTheDaemonAndLearnsItsAnswer) {
  const KernelVerdicts verdicts(*policy_, [](const std::string&) { return false; });
  // Before the daemon judged it, no file is decided in the kernel.
  EXPECT_EQ(verdicts.policy().default_verdict, KernelVerdict::kEvaluate);
  const FileId file{3, 7};
  EXPECT_EQ(verdicts.learned(file, nullptr, kTrustPackage).verdict, KernelVerdict::kAllow);
  EXPECT_EQ(verdicts.learned(file, nullptr, uint8_t{0}).verdict, KernelVerdict::kDeny);
  EXPECT_EQ(verdicts.learned(file, nullptr, std::nullopt).verdict, KernelVerdict::kEvaluate);
}

}  // namespace
}  // namespace cmdgate::rules
