#include "approval/local_rules.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "pipeline_fakes.h"
#include "processes.h"
#include "rules/parser.h"
#include "rules/policy.h"

namespace cmdgate {
namespace {

using test::NoNames;

TEST(LocalRules, AnAppendedApprovalLoadsAndMatchesExactlyThatCommand) {
  const test::TempDir dir;
  const std::string file = dir.file("90-approvals.toml");
  PermanentApproval a;
  a.exe = "/usr/bin/git";
  a.sha256 = std::string(62, '0') + "1f";
  a.uid = 1000;
  a.argv = {"git", "push", "--force", "origin", "main (really)"};
  a.approved_by = "approved by uid 0 \"quoted\"";
  a.request_id = 7;
  auto id = append_permanent_approval(file, a);
  ASSERT_TRUE(id.ok()) << id.error().message;
  a.argv = {"git", "reset", "--hard"};
  a.request_id = 8;
  ASSERT_TRUE(append_permanent_approval(file, a).ok());

  auto set = rules::load_rules({file}, NoNames());
  ASSERT_TRUE(set.ok()) << set.error().message;
  ASSERT_EQ(set->rules.size(), 2u);
  EXPECT_EQ(set->rules[0].id, *id);
  EXPECT_EQ(set->rules[0].action, rules::Action::kAllow);
  EXPECT_EQ(set->rules[0].priority, 1000);
  EXPECT_EQ(set->rules[0].match.uids, (std::vector<uint32_t>{1000}));
  ASSERT_EQ(set->rules[0].match.cmdline.size(), 1u);
  EXPECT_EQ(set->rules[0].match.cmdline[0],
            "^git\\ push\\ \\-\\-force\\ origin\\ main\\ \\(really\\)$");
  // Pinned to the file's content as well as its path: a file put there later is not allowed.
  rules::Sha256 digest{};
  digest[31] = 0x1f;
  EXPECT_EQ(set->rules[0].match.sha256, std::vector<rules::Sha256>{digest});
}

TEST(LocalRules, AnApprovalWithoutTheFilesDigestIsRefusedAndTheFileUntouched) {
  const test::TempDir dir;
  const std::string file = dir.file("local.toml");
  std::ofstream(file) << "# existing\n";
  PermanentApproval a;
  a.exe = "/usr/bin/x";
  a.argv = {"x"};
  EXPECT_FALSE(append_permanent_approval(file, a).ok());
  EXPECT_EQ(std::filesystem::file_size(file), std::string("# existing\n").size());
}

TEST(LocalRules, ACommandThatIsNotUtf8IsRefusedAndTheFileUntouched) {
  const test::TempDir dir;
  const std::string file = dir.file("local.toml");
  std::ofstream(file) << "# existing\n";
  PermanentApproval a;
  a.exe = "/usr/bin/x";
  a.argv = {"x", std::string("\xff\xfe", 2)};
  EXPECT_FALSE(append_permanent_approval(file, a).ok());
  EXPECT_EQ(std::filesystem::file_size(file), std::string("# existing\n").size());
}

TEST(LocalRules, CoveredByRulePaths) {
  const test::TempDir tmp;
  const std::string dir = tmp.path();
  EXPECT_TRUE(covered_by_rule_paths(dir + "/90-local.toml", {dir}));
  EXPECT_FALSE(covered_by_rule_paths(dir + "/90-local.txt", {dir}));
  EXPECT_TRUE(covered_by_rule_paths("/etc/x.toml", {"/etc/x.toml"}));
  EXPECT_FALSE(covered_by_rule_paths("/etc/y.toml", {"/etc/x.toml"}));
}

}  // namespace
}  // namespace cmdgate
