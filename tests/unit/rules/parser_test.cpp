#include "rules/parser.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <map>

#include "parse_fixture.h"

namespace cmdgate::rules {
namespace {

using std::chrono::milliseconds;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;
using namespace testing;  // parse_fixture.h

// ---- Happy paths ----

TEST(ParseRules, EmptyDocumentHasDefaults) {
  const RuleSet set = parse_ok("");
  EXPECT_EQ(set.mode, Mode::kEnforce);
  EXPECT_EQ(set.default_action, Action::kAllow);
  EXPECT_EQ(set.ask_timeout, milliseconds(120'000));
  EXPECT_EQ(set.timeout_action, Action::kDeny);
  EXPECT_THAT(set.rules, IsEmpty());
  EXPECT_THAT(set.sources, ElementsAre("t.toml"));
}

TEST(ParseRules, TopLevelSettings) {
  const RuleSet set = parse_ok(R"(
mode = "monitor"
default_action = "deny"
ask_timeout = "45s"
timeout_action = "allow"
)");
  EXPECT_EQ(set.mode, Mode::kMonitor);
  EXPECT_EQ(set.default_action, Action::kDeny);
  EXPECT_EQ(set.ask_timeout, milliseconds(45'000));
  EXPECT_EQ(set.timeout_action, Action::kAllow);
  EXPECT_EQ(parse_ok("default_action = \"audit\"").default_action, Action::kAudit);
  EXPECT_EQ(parse_ok("default_action = \"ask\"").default_action, Action::kAsk);
  EXPECT_EQ(parse_ok("mode = \"enforce\"").mode, Mode::kEnforce);
}

TEST(ParseRules, EveryRuleKeyAsSingleValue) {
  const RuleSet set = parse_ok(R"([[rule]]
id = "all-keys"
description = "every key"
action = "ask"
mode = "monitor"
priority = -7
timeout = "90s"
timeout_action = "allow"
path = "/usr/bin/nc"
sha256 = "00020406080A0C0E10121416181A1C1E20222426282a2c2e30323436383a3c3e"
args = "^-e$"
cmdline = "nc .* -e"
user = "alice"
group = "wheel"
parent = "bash"
ancestor = "/usr/sbin/sshd"
tty = true
cgroup = "/system.slice/*.service"
file = "memfd"
)");
  ASSERT_EQ(set.rules.size(), 1u);
  const Rule& r = set.rules[0];
  EXPECT_EQ(r.id, "all-keys");
  EXPECT_EQ(*r.description, "every key");
  EXPECT_EQ(r.action, Action::kAsk);
  EXPECT_EQ(r.mode, Mode::kMonitor);
  EXPECT_EQ(r.priority, -7);
  EXPECT_EQ(r.ask_timeout, milliseconds(90'000));
  EXPECT_EQ(r.timeout_action, Action::kAllow);
  EXPECT_EQ(r.where.file_name(), "t.toml");
  EXPECT_EQ(r.where.line, 1u);
  EXPECT_EQ(r.where.column, 1u);
  const Match& m = r.match;
  EXPECT_THAT(m.paths, ElementsAre("/usr/bin/nc"));
  EXPECT_THAT(m.path_globs, IsEmpty());
  EXPECT_THAT(m.sha256, ElementsAre(digest_of(0, 2)));
  EXPECT_THAT(m.args, ElementsAre("^-e$"));
  EXPECT_THAT(m.cmdline, ElementsAre("nc .* -e"));
  EXPECT_THAT(m.uids, ElementsAre(1000u));
  EXPECT_THAT(m.gids, ElementsAre(10u));
  ASSERT_EQ(m.parent.size(), 1u);
  EXPECT_EQ(m.parent[0].text, "bash");
  EXPECT_FALSE(m.parent[0].is_path);
  ASSERT_EQ(m.ancestor.size(), 1u);
  EXPECT_EQ(m.ancestor[0].text, "/usr/sbin/sshd");
  EXPECT_TRUE(m.ancestor[0].is_path);
  EXPECT_EQ(m.tty, true);
  EXPECT_THAT(m.cgroup_globs, ElementsAre("/system.slice/*.service"));
  EXPECT_EQ(m.file_kinds, kFileMemfd);
}

TEST(ParseRules, EveryMatchKeyAsArray) {
  const RuleSet set = parse_ok(R"([[rule]]
id = "arrays"
action = "deny"
path = ["/usr/bin/nc", "/opt/**/nc", "/tmp/*", "/usr/bin/ncat"]
sha256 = ["0000000000000000000000000000000000000000000000000000000000000000",
          "FFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFffffffffffffffffffffffffffffffff"]
args = ["-e", "--exec"]
cmdline = ["a b", "c"]
user = ["root", 1000, 4294967294]
group = [0, "staff"]
parent = ["/usr/bin/python3*", "sh", "kworker*"]
ancestor = ["sshd", "/usr/sbin/cron"]
tty = false
cgroup = ["/user.slice/**", "/system.slice/cron.service"]
file = ["memfd", "deleted"]
)");
  ASSERT_EQ(set.rules.size(), 1u);
  const Rule& r = set.rules[0];
  EXPECT_EQ(r.action, Action::kDeny);
  EXPECT_EQ(r.mode, std::nullopt);
  EXPECT_EQ(r.priority, 0);
  EXPECT_EQ(r.ask_timeout, std::nullopt);
  EXPECT_EQ(r.timeout_action, std::nullopt);
  const Match& m = r.match;
  EXPECT_THAT(m.paths, ElementsAre("/usr/bin/nc", "/usr/bin/ncat"));
  EXPECT_THAT(m.path_globs, ElementsAre("/opt/**/nc", "/tmp/*"));
  Sha256 ones;
  ones.fill(0xFF);
  EXPECT_THAT(m.sha256, ElementsAre(Sha256{}, ones));
  EXPECT_THAT(m.args, ElementsAre("-e", "--exec"));
  EXPECT_THAT(m.cmdline, ElementsAre("a b", "c"));
  EXPECT_THAT(m.uids, ElementsAre(0u, 1000u, 4294967294u));
  EXPECT_THAT(m.gids, ElementsAre(0u, 50u));
  ASSERT_EQ(m.parent.size(), 3u);
  EXPECT_TRUE(m.parent[0].is_path);
  EXPECT_EQ(m.parent[0].text, "/usr/bin/python3*");
  EXPECT_FALSE(m.parent[1].is_path);
  EXPECT_EQ(m.parent[1].text, "sh");
  EXPECT_FALSE(m.parent[2].is_path);
  EXPECT_EQ(m.parent[2].text, "kworker*");
  ASSERT_EQ(m.ancestor.size(), 2u);
  EXPECT_FALSE(m.ancestor[0].is_path);
  EXPECT_TRUE(m.ancestor[1].is_path);
  EXPECT_EQ(m.tty, false);
  EXPECT_THAT(m.cgroup_globs, ElementsAre("/user.slice/**", "/system.slice/cron.service"));
  EXPECT_EQ(m.file_kinds, kFileMemfd | kFileDeleted);
  EXPECT_TRUE(m.has_file_predicate());
  EXPECT_TRUE(m.has_context_predicate());
}

TEST(ParseRules, RuleWithoutMatchKeysHasEmptyMatch) {
  const RuleSet set = parse_ok("[[rule]]\nid = \"catch-all\"\naction = \"audit\"\n");
  ASSERT_EQ(set.rules.size(), 1u);
  EXPECT_FALSE(set.rules[0].match.has_file_predicate());
  EXPECT_FALSE(set.rules[0].match.has_context_predicate());
  EXPECT_EQ(set.rules[0].match.tty, std::nullopt);
}

TEST(ParseRules, EscapedGlobCharacterMakesAnExactPath) {
  const RuleSet set = parse_ok(R"([[rule]]
id = "esc"
action = "deny"
path = ['/opt/a\*b', '/opt/back\\slash', '/opt/[ab]c']
)");
  ASSERT_EQ(set.rules.size(), 1u);
  EXPECT_THAT(set.rules[0].match.paths, ElementsAre("/opt/a*b", "/opt/back\\slash"));
  EXPECT_THAT(set.rules[0].match.path_globs, ElementsAre("/opt/[ab]c"));
}

TEST(ParseRules, CommandNamesUpTo15CharactersOrGlobs) {
  EXPECT_EQ(parse_ok("[[rule]]\nid='a'\naction='deny'\nparent='abcdefghijklmno'")
                .rules[0]
                .match.parent[0]
                .text,
            "abcdefghijklmno");
  EXPECT_EQ(parse_ok("[[rule]]\nid='a'\naction='deny'\nparent='abcdefghijklmnop*'")
                .rules[0]
                .match.parent[0]
                .text,
            "abcdefghijklmnop*");
  EXPECT_EQ(parse_error("[[rule]]\nid='a'\naction='deny'\nancestor='abcdefghijklmnop'"),
            "t.toml:4:10: rule 'a': key 'ancestor': command name 'abcdefghijklmnop' is longer "
            "than 15 characters and can never match (the kernel keeps only the first 15); use "
            "an executable path starting with '/' or a shorter name");
}

TEST(ParseRules, InlineArrayOfTablesIsAccepted) {
  const RuleSet set = parse_ok(R"(rule = [
  { id = "a", action = "deny", path = "/bin/a" },
  { id = "b", action = "allow" },
])");
  EXPECT_THAT(ids(set), ElementsAre("a", "b"));
  EXPECT_EQ(set.rules[1].where.line, 3u);
  EXPECT_EQ(set.rules[1].where.column, 3u);
}

TEST(ParseRules, RuleLocationIsTheHeader) {
  const RuleSet set = parse_ok(R"(mode = "enforce"

[[rule]]
id = "first"
action = "deny"

  [[rule]]
  id = "second"
  action = "allow"
)");
  ASSERT_EQ(set.rules.size(), 2u);
  EXPECT_EQ(set.rules[0].where.line, 3u);
  EXPECT_EQ(set.rules[0].where.column, 1u);
  EXPECT_EQ(set.rules[1].where.line, 7u);
  EXPECT_EQ(set.rules[1].where.column, 3u);
}

TEST(ParseRules, PriorityCoversInt32) {
  EXPECT_EQ(parse_ok("[[rule]]\nid='a'\naction='deny'\npriority=2147483647").rules[0].priority,
            2147483647);
  EXPECT_EQ(parse_ok("[[rule]]\nid='a'\naction='deny'\npriority=-2147483648").rules[0].priority,
            -2147483647 - 1);
  EXPECT_EQ(parse_error("[[rule]]\nid='a'\naction='deny'\npriority=2147483648"),
            "t.toml:4:10: rule 'a': key 'priority': 2147483648 is out of range (-2147483648 to "
            "2147483647)");
  EXPECT_THAT(parse_error("[[rule]]\nid='a'\naction='deny'\npriority=-2147483649"),
              HasSubstr("out of range"));
}

TEST(ParseRules, RuleIds) {
  const std::string longest = "A" + std::string(127, 'z');
  EXPECT_EQ(parse_ok("[[rule]]\nid='" + longest + "'\naction='deny'").rules[0].id, longest);
  EXPECT_EQ(parse_ok("[[rule]]\nid='0a.b_c:d-e'\naction='deny'").rules[0].id, "0a.b_c:d-e");
  EXPECT_EQ(parse_error("[[rule]]\nid = '-bad'\naction='deny'"),
            "t.toml:2:6: rule #1: key 'id': '-bad' is not a valid rule id (1 to 128 characters "
            "from A-Z a-z 0-9 . _ : -, starting with a letter or digit)");
  for (const std::string& bad : {std::string(""), std::string("a b"), std::string("a/b"),
                                 std::string(".a"), longest + "z", std::string("caf\u00e9")}) {
    EXPECT_THAT(parse_error("[[rule]]\nid = '" + bad + "'\naction='deny'"),
                HasSubstr("is not a valid rule id"))
        << bad;
  }
  EXPECT_EQ(parse_error("[[rule]]\nid = 7\naction='deny'"),
            "t.toml:2:6: rule #1: key 'id': expected a string, got an integer");
}

// ---- Precedence ----

TEST(ParseRules, PrecedenceIsPriorityDescendingThenFileOrder) {
  const RuleSet set = parse_ok(R"(
[[rule]]
id = "low"
action = "allow"
priority = -1
[[rule]]
id = "a"
action = "deny"
[[rule]]
id = "high"
action = "deny"
priority = 10
[[rule]]
id = "b"
action = "deny"
[[rule]]
id = "high2"
action = "allow"
priority = 10
[[rule]]
id = "c"
action = "audit"
priority = 0
)");
  EXPECT_THAT(ids(set), ElementsAre("high", "high2", "a", "b", "c", "low"));
}

}  // namespace
}  // namespace cmdgate::rules
