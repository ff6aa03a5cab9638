#include "policy/combined_rules.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

namespace cmdgate {
namespace {

class CombinedRules : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/cmdgate-combined.XXXXXX";
    dir_ = ::mkdtemp(tmpl);
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }

  void local(const std::string& name, const std::string& toml) {
    std::ofstream(dir_ + "/" + name) << toml;
  }
  PolicySource source(std::string bundle_toml, bool admit_local,
                      std::vector<rules::Action> actions = {}) {
    PolicySource s;
    s.rule_paths = {dir_};
    s.pushed = PushedRules{"web@7",
                           {{"fleet:web@7/10-base.toml", std::move(bundle_toml)}},
                           admit_local,
                           std::move(actions)};
    return s;
  }
  std::vector<std::string> ids(const rules::RuleSet& set) {
    std::vector<std::string> out;
    for (const auto& r : set.rules) {
      out.push_back(r.id);
    }
    return out;
  }

  std::string dir_;
  rules::SystemNameResolver names_;
};

constexpr const char* kBundle = R"(
default_action = "allow"
[[rule]]
id = "fleet-low"
action = "deny"
priority = -5
path = "/usr/bin/nc"
[[rule]]
id = "fleet-high"
action = "audit"
priority = 10
path = "/usr/bin/curl"
)";

TEST_F(CombinedRules, WithoutPushedRulesTheLocalFilesAreThePolicy) {
  local("50-local.toml", "[[rule]]\nid = \"l\"\naction = \"deny\"\npath = \"/x\"\n");
  PolicySource s;
  s.rule_paths = {dir_};
  auto set = load_policy_rules(s, names_);
  ASSERT_TRUE(set) << set.error().message;
  EXPECT_EQ(ids(*set), std::vector<std::string>{"l"});
}

TEST_F(CombinedRules, PushedRulesComeFirstWhateverTheirPriority) {
  local("50-local.toml", R"(
[[rule]]
id = "local-top"
action = "allow"
priority = 1000
path = "/usr/bin/nc"
[[rule]]
id = "local-mid"
action = "deny"
path = "/usr/bin/wget"
)");
  auto set = load_policy_rules(source(kBundle, true), names_);
  ASSERT_TRUE(set) << set.error().message;
  EXPECT_EQ(ids(*set),
            (std::vector<std::string>{"fleet-high", "fleet-low", "local-top", "local-mid"}));
  EXPECT_EQ(set->sources.size(), 2u);
}

TEST_F(CombinedRules, LocalFilesAreNotEvenReadUnlessTheBundleAdmitsThem) {
  local("50-local.toml", "this is not toml [[[");
  auto set = load_policy_rules(source(kBundle, false), names_);
  ASSERT_TRUE(set) << set.error().message;
  EXPECT_EQ(ids(*set), (std::vector<std::string>{"fleet-high", "fleet-low"}));
  EXPECT_EQ(set->sources, std::vector<std::string>{"fleet:web@7/10-base.toml"});

  auto admitted = load_policy_rules(source(kBundle, true), names_);
  ASSERT_FALSE(admitted);
  EXPECT_NE(admitted.error().message.find("50-local.toml:1:"), std::string::npos)
      << admitted.error().message;
}

TEST_F(CombinedRules, LocalRulesMayTakeOnlyTheActionsTheBundleAllows) {
  local("50-local.toml", "[[rule]]\nid = \"tighten\"\naction = \"deny\"\npath = \"/x\"\n");
  EXPECT_TRUE(load_policy_rules(source(kBundle, true, {rules::Action::kDeny}), names_));
  local("60-local.toml", "[[rule]]\nid = \"loosen\"\naction = \"allow\"\npath = \"/y\"\n");
  auto set = load_policy_rules(source(kBundle, true, {rules::Action::kDeny, rules::Action::kAudit}),
                               names_);
  ASSERT_FALSE(set);
  EXPECT_EQ(set.error().message,
            dir_ +
                "/60-local.toml:1:1: rule 'loosen': action \"allow\" is not open to local rules "
                "while the fleet bundles web@7 are in force (local rules may: deny, audit)");
}

TEST_F(CombinedRules, LocalFilesMayRepeatButNotChangeTheBundlesSettings) {
  local("00-settings.toml", "default_action = \"allow\"\nmode = \"enforce\"\n");
  EXPECT_TRUE(load_policy_rules(source(kBundle, true), names_));

  // The bundle says nothing about mode: it is still the bundle's (enforce), not the host's.
  local("00-settings.toml", "mode = \"monitor\"\n");
  auto monitor = load_policy_rules(source(kBundle, true), names_);
  ASSERT_FALSE(monitor);
  EXPECT_EQ(monitor.error().message,
            "local rule files set 'mode' to monitor, but the fleet bundles in force (web@7) have "
            "enforce: while a bundle is in force, its settings govern");

  // An explicit bundle setting conflicts with both places named.
  local("00-settings.toml", "default_action = \"deny\"\n");
  auto conflict = load_policy_rules(source(kBundle, true), names_);
  ASSERT_FALSE(conflict);
  EXPECT_NE(
      conflict.error().message.find("conflicts with \"allow\" set at fleet:web@7/10-base.toml"),
      std::string::npos)
      << conflict.error().message;
}

TEST_F(CombinedRules, RuleIdsAreUniqueAcrossBothLayers) {
  local("50-local.toml", "[[rule]]\nid = \"fleet-low\"\naction = \"deny\"\npath = \"/x\"\n");
  auto set = load_policy_rules(source(kBundle, true), names_);
  ASSERT_FALSE(set);
  EXPECT_NE(
      set.error().message.find("duplicate rule id (first defined at fleet:web@7/10-base.toml"),
      std::string::npos)
      << set.error().message;
}

TEST_F(CombinedRules, BadPushedRulesAreNamedByBundleAndFile) {
  auto set = load_policy_rules(source("[[rule]]\nid = \"x\"\naction = \"maybe\"\n", false), names_);
  ASSERT_FALSE(set);
  EXPECT_TRUE(set.error().message.starts_with("fleet:web@7/10-base.toml:3:"))
      << set.error().message;
}

}  // namespace
}  // namespace cmdgate
