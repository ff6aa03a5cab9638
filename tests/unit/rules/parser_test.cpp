#include "rules/parser.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <map>

namespace cmdgate::rules {
namespace {

namespace fs = std::filesystem;
using std::chrono::milliseconds;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;
using ::testing::StartsWith;

class FakeNames final : public NameResolver {
 public:
  std::optional<uint32_t> uid(const std::string& name) const override {
    return find({{"root", 0}, {"alice", 1000}, {"bob", 1001}}, name);
  }
  std::optional<uint32_t> gid(const std::string& name) const override {
    return find({{"root", 0}, {"wheel", 10}, {"staff", 50}}, name);
  }

 private:
  static std::optional<uint32_t> find(const std::map<std::string, uint32_t>& db,
                                      const std::string& name) {
    const auto it = db.find(name);
    return it == db.end() ? std::nullopt : std::optional<uint32_t>(it->second);
  }
};

const FakeNames kNames;

Result<RuleSet> parse(std::string_view text) {
  return parse_rules(text, "t.toml", kNames);
}

RuleSet parse_ok(std::string_view text) {
  auto set = parse(text);
  EXPECT_TRUE(set.ok()) << (set.ok() ? "" : set.error().message);
  return set.ok() ? std::move(*set) : RuleSet{};
}

std::string parse_error(std::string_view text) {
  auto set = parse(text);
  EXPECT_FALSE(set.ok()) << "parsed without error:\n" << text;
  return set.ok() ? "" : set.error().message;
}

std::vector<std::string> ids(const RuleSet& set) {
  std::vector<std::string> out;
  for (const Rule& r : set.rules) {
    out.push_back(r.id);
  }
  return out;
}

Sha256 digest_of(uint8_t first, uint8_t step) {
  Sha256 d{};
  for (size_t i = 0; i < d.size(); ++i) {
    d[i] = static_cast<uint8_t>(first + step * i);
  }
  return d;
}

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
  EXPECT_EQ(r.description, "every key");
  EXPECT_EQ(r.action, Action::kAsk);
  EXPECT_EQ(r.mode, Mode::kMonitor);
  EXPECT_EQ(r.priority, -7);
  EXPECT_EQ(r.ask_timeout, milliseconds(90'000));
  EXPECT_EQ(r.timeout_action, Action::kAllow);
  EXPECT_EQ(r.where.file, "t.toml");
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

// ---- Errors: each names file:line:column and the key ----

TEST(ParseErrors, TomlSyntaxError) {
  EXPECT_EQ(parse_error("mode = \"enforce\"\n[[rule]]\nid = \"a\nx\n"),
            "t.toml:3:8: TOML syntax error: Error while parsing string: unescaped control "
            "characters other than TAB (U+0009) are explicitly prohibited");
  EXPECT_THAT(parse_error("a = 1\na = 2\n"),
              StartsWith("t.toml:2:5: TOML syntax error: Error while parsing key-value pair: "
                         "cannot redefine existing integer 'a'"));
}

TEST(ParseErrors, UnknownTopLevelKey) {
  EXPECT_EQ(parse_error("mode = \"enforce\"\nmodes = \"monitor\"\n"),
            "t.toml:2:1: unknown top-level key 'modes' (valid keys: mode, default_action, "
            "ask_timeout, timeout_action, lists, agent, rule)");
  EXPECT_THAT(parse_error("[[rules]]\nid = \"a\"\n"),
              StartsWith("t.toml:1:3: unknown top-level key 'rules'"));
  // Match keys belong in a [[rule]]; before any rule header they are top-level keys.
  EXPECT_THAT(parse_error("path = \"/bin/sh\"\n"),
              StartsWith("t.toml:1:1: unknown top-level key 'path'"));
}

TEST(ParseErrors, UnknownRuleKey) {
  EXPECT_EQ(parse_error(R"([[rule]]
id = "r1"
action = "deny"
  paths = ["/bin/sh"]
)"),
            "t.toml:4:3: rule 'r1': unknown key 'paths' (valid keys: id, description, message, "
            "url, action, mode, priority, timeout, timeout_action, path, sha256, args, cmdline, "
            "user, group, parent, ancestor, tty, cgroup, file, agent)");
}

TEST(ParseErrors, FirstErrorInFileOrderIsReported) {
  // toml::table is ordered by key name; the error on line 3 must still win over line 4.
  EXPECT_THAT(parse_error("[[rule]]\nid = 'a'\nzzz = 1\naction = 'nope'\n"),
              StartsWith("t.toml:3:1: rule 'a': unknown key 'zzz'"));
}

TEST(ParseErrors, WrongTypes) {
  const std::string head = "[[rule]]\nid = \"r1\"\naction = \"deny\"\n";
  EXPECT_EQ(parse_error(head + "priority = \"high\""),
            "t.toml:4:12: rule 'r1': key 'priority': expected an integer, got a string");
  EXPECT_EQ(parse_error(head + "priority = 1.0"),
            "t.toml:4:12: rule 'r1': key 'priority': expected an integer, got a floating-point "
            "number");
  EXPECT_EQ(parse_error(head + "tty = \"yes\""),
            "t.toml:4:7: rule 'r1': key 'tty': expected a boolean (true or false), got a string");
  // The element, not the array, is pointed at.
  EXPECT_EQ(parse_error(head + "user = [\"root\", 1.5]"),
            "t.toml:4:17: rule 'r1': key 'user': expected a user name or a numeric uid, got a "
            "floating-point number");
  EXPECT_EQ(parse_error(head + "path = [[\"/bin/sh\"]]"),
            "t.toml:4:9: rule 'r1': key 'path': expected an absolute path string, got an array");
  EXPECT_EQ(parse_error(head + "description = 5"),
            "t.toml:4:15: rule 'r1': key 'description': expected a string, got an integer");
  EXPECT_EQ(parse_error(head + "file = true"),
            "t.toml:4:8: rule 'r1': key 'file': expected one of \"memfd\", \"deleted\", got a "
            "boolean");
  EXPECT_EQ(parse_error("mode = 1"),
            "t.toml:1:8: key 'mode': expected one of \"enforce\", \"monitor\", got an integer");
  EXPECT_EQ(parse_error("ask_timeout = 30"),
            "t.toml:1:15: key 'ask_timeout': expected a duration string such as \"30s\", got an "
            "integer");
  EXPECT_EQ(parse_error("[rule]\nid = \"a\"\n"),
            "t.toml:1:1: key 'rule': expected an array of tables ([[rule]]), got a table");
  EXPECT_EQ(parse_error("rule = [1]"),
            "t.toml:1:9: rule #1: expected a table ([[rule]]), got an integer");
}

TEST(ParseErrors, MissingRequiredKeys) {
  EXPECT_EQ(parse_error(R"([[rule]]
id = "a"
action = "deny"

[[rule]]
action = "deny"
)"),
            "t.toml:5:1: rule #2: missing required key 'id'");
  EXPECT_EQ(parse_error("[[rule]]\nid = \"a\"\n"),
            "t.toml:1:1: rule 'a': missing required key 'action'");
}

TEST(ParseErrors, DuplicateIdInOneFile) {
  EXPECT_EQ(parse_error(R"([[rule]]
id = "a"
action = "deny"
[[rule]]
id = "a"
action = "allow"
)"),
            "t.toml:5:6: rule 'a': key 'id': duplicate rule id (first defined at t.toml:2:6)");
}

TEST(ParseErrors, BadEnumValues) {
  EXPECT_EQ(parse_error("[[rule]]\nid = \"a\"\naction = \"block\"\n"),
            "t.toml:3:10: rule 'a': key 'action': expected one of \"allow\", \"audit\", \"deny\", "
            "\"ask\"; got 'block'");
  EXPECT_EQ(parse_error("mode = \"strict\""),
            "t.toml:1:8: key 'mode': expected one of \"enforce\", \"monitor\"; got 'strict'");
  EXPECT_EQ(parse_error("timeout_action = \"audit\""),
            "t.toml:1:18: key 'timeout_action': expected one of \"allow\", \"deny\"; got 'audit'");
  EXPECT_THAT(parse_error("default_action = \"Deny\""),
              StartsWith("t.toml:1:18: key 'default_action': expected one of"));
  EXPECT_THAT(parse_error("[[rule]]\nid='a'\naction='deny'\nmode='off'"),
              StartsWith("t.toml:4:6: rule 'a': key 'mode': expected one of"));
  EXPECT_EQ(parse_error("[[rule]]\nid='a'\naction='deny'\nfile=['memfd', 'socket']"),
            "t.toml:4:16: rule 'a': key 'file': expected one of \"memfd\", \"deleted\"; got "
            "'socket'");
  EXPECT_THAT(parse_error("[[rule]]\nid='a'\naction='ask'\ntimeout_action='ask'"),
              StartsWith("t.toml:4:16: rule 'a': key 'timeout_action': expected one of \"allow\", "
                         "\"deny\"; got 'ask'"));
}

TEST(ParseErrors, TimeoutOnlyWithAsk) {
  EXPECT_EQ(parse_error(R"([[rule]]
id = "a"
timeout = "30s"
action = "deny"
)"),
            "t.toml:3:11: rule 'a': key 'timeout': only valid when action = \"ask\" (this "
            "rule's action is \"deny\")");
  EXPECT_EQ(parse_error("[[rule]]\nid = \"a\"\naction = \"audit\"\ntimeout_action = \"allow\"\n"),
            "t.toml:4:18: rule 'a': key 'timeout_action': only valid when action = \"ask\" (this "
            "rule's action is \"audit\")");
  EXPECT_THAT(parse_error("[[rule]]\nid = \"a\"\naction = \"ask\"\ntimeout = \"0s\"\n"),
              StartsWith("t.toml:4:11: rule 'a': key 'timeout': duration '0s' must be greater"));
}

TEST(ParseErrors, BadRegex) {
  EXPECT_EQ(parse_error("[[rule]]\nid = \"no-nc\"\naction = \"deny\"\nargs = [\"ok\", \"(\"]\n"),
            "t.toml:4:15: rule 'no-nc': key 'args': invalid regular expression '(': missing ): (");
  EXPECT_EQ(parse_error("[[rule]]\nid = \"a\"\naction = \"deny\"\ncmdline = \"a**\"\n"),
            "t.toml:4:11: rule 'a': key 'cmdline': invalid regular expression 'a**': bad "
            "repetition operator: **");
  EXPECT_EQ(parse_error("[[rule]]\nid = \"a\"\naction = \"deny\"\nargs = \"\"\n"),
            "t.toml:4:8: rule 'a': key 'args': empty string");
}

TEST(ParseErrors, RegexLengthLimit) {
  const std::string head = "[[rule]]\nid = 'a'\naction = 'deny'\nargs = '";
  EXPECT_EQ(parse_ok(head + std::string(4096, 'x') + "'").rules[0].match.args[0].size(), 4096u);
  EXPECT_THAT(parse_error(head + std::string(4097, 'x') + "'"),
              ::testing::AllOf(StartsWith("t.toml:4:8: rule 'a': key 'args': regular expression "
                                          "'xxxx"),
                               HasSubstr("'... is 4097 bytes long; at most 4096 are allowed")));
}

TEST(ParseErrors, BadGlobs) {
  const std::string head = "[[rule]]\nid = \"a\"\naction = \"deny\"\n";
  EXPECT_EQ(parse_error(head + "path = \"/usr/[bin\""),
            "t.toml:4:8: rule 'a': key 'path': glob '/usr/[bin': '[' at offset 5 is never closed");
  EXPECT_EQ(parse_error(head + "path = ['/ok', '/usr/bin\\']"),
            "t.toml:4:16: rule 'a': key 'path': glob '/usr/bin\\' ends with a lone backslash");
  EXPECT_EQ(parse_error(head + "cgroup = \"/system.slice/[x\""),
            "t.toml:4:10: rule 'a': key 'cgroup': glob '/system.slice/[x': '[' at offset 14 is "
            "never closed");
  EXPECT_THAT(parse_error(head + "parent = \"ba[sh\""),
              StartsWith("t.toml:4:10: rule 'a': key 'parent': glob 'ba[sh':"));
  EXPECT_THAT(parse_error(head + "ancestor = \"/usr/[\""),
              StartsWith("t.toml:4:12: rule 'a': key 'ancestor': glob '/usr/[':"));
}

TEST(ParseErrors, PathsMustBeAbsoluteAndNonEmpty) {
  const std::string head = "[[rule]]\nid = \"a\"\naction = \"deny\"\n";
  EXPECT_EQ(parse_error(head + "path = \"bin/sh\""),
            "t.toml:4:8: rule 'a': key 'path': 'bin/sh' does not start with '/'");
  EXPECT_EQ(parse_error(head + "path = [\"/bin/sh\", \"\"]"),
            "t.toml:4:20: rule 'a': key 'path': empty string");
  EXPECT_EQ(parse_error(head + "path = []"),
            "t.toml:4:8: rule 'a': key 'path': empty list; omit the key to match any value");
  EXPECT_EQ(parse_error(head + "cgroup = \"system.slice\""),
            "t.toml:4:10: rule 'a': key 'cgroup': 'system.slice' does not start with '/'");
  EXPECT_EQ(parse_error(head + "path = \"/bin/a\\u0000b\""),
            "t.toml:4:8: rule 'a': key 'path': '/bin/a\\x00b' contains a NUL character");
}

TEST(ParseErrors, BadSha256) {
  const std::string head = "[[rule]]\nid = \"a\"\naction = \"deny\"\n";
  EXPECT_EQ(parse_error(head + "sha256 = \"abcd\""),
            "t.toml:4:10: rule 'a': key 'sha256': 'abcd' is not a SHA-256 digest: expected 64 "
            "hexadecimal digits, got 4");
  const std::string bad = std::string(10, '0') + "g" + std::string(53, '0');
  EXPECT_EQ(parse_error(head + "sha256 = [\"" + std::string(64, 'a') + "\", \"" + bad + "\"]"),
            "t.toml:4:79: rule 'a': key 'sha256': '" + bad.substr(0, 64) +
                "' is not a SHA-256 digest: non-hexadecimal character at offset 10");
  EXPECT_THAT(parse_error(head + "sha256 = \"" + std::string(65, 'a') + "\""),
              HasSubstr("expected 64 hexadecimal digits, got 65"));
}

TEST(ParseErrors, UsersAndGroups) {
  const std::string head = "[[rule]]\nid = \"a\"\naction = \"deny\"\n";
  EXPECT_EQ(parse_error(head + "user = [\"alice\", \"mallory\"]"),
            "t.toml:4:18: rule 'a': key 'user': unknown user 'mallory'");
  EXPECT_EQ(parse_error(head + "user = \"1000\""),
            "t.toml:4:8: rule 'a': key 'user': unknown user '1000' (write numeric ids as "
            "integers: user = 1000)");
  EXPECT_EQ(parse_error(head + "group = \"alice\""),
            "t.toml:4:9: rule 'a': key 'group': unknown group 'alice'");
  EXPECT_EQ(parse_error(head + "user = -1"),
            "t.toml:4:8: rule 'a': key 'user': user id -1 is out of range (0 to 4294967294)");
  EXPECT_EQ(parse_error(head + "group = 4294967295"),
            "t.toml:4:9: rule 'a': key 'group': group id 4294967295 is out of range (0 to "
            "4294967294)");
  EXPECT_EQ(parse_error(head + "group = true"),
            "t.toml:4:9: rule 'a': key 'group': expected a group name or a numeric gid, got a "
            "boolean");
}

TEST(ParseErrors, TopLevelDurations) {
  EXPECT_EQ(parse_ok("ask_timeout = \"500ms\"").ask_timeout, milliseconds(500));
  EXPECT_EQ(parse_ok("ask_timeout = \"24h\"").ask_timeout, milliseconds(86'400'000));
  EXPECT_EQ(parse_error("ask_timeout = \"25h\""),
            "t.toml:1:15: key 'ask_timeout': duration '25h' is longer than the maximum of 24h");
  EXPECT_EQ(parse_error("ask_timeout = \"2 m\""),
            "t.toml:1:15: key 'ask_timeout': invalid duration '2 m': expected an integer followed "
            "by one of the units ms, s, m, h (e.g. \"30s\")");
  EXPECT_THAT(parse_error("ask_timeout = \"0s\""), HasSubstr("must be greater than zero"));
}

TEST(ParseErrors, ListLengthLimit) {
  auto list = [](size_t n) {
    std::string text = "[[rule]]\nid = 'a'\naction = 'deny'\nuser = [";
    for (size_t i = 0; i < n; ++i) {
      text += "1,";
    }
    return text + "]";
  };
  EXPECT_EQ(parse_ok(list(10'000)).rules[0].match.uids.size(), 10'000u);
  EXPECT_EQ(parse_error(list(10'001)),
            "t.toml:4:8: rule 'a': key 'user': 10001 elements; at most 10000 are allowed");
}

TEST(ParseErrors, LongValuesAreCutInMessages) {
  const std::string error =
      parse_error("[[rule]]\nid='a'\naction='deny'\npath='" + std::string(1000, 'x') + "'");
  EXPECT_EQ(error, "t.toml:4:6: rule 'a': key 'path': '" + std::string(64, 'x') +
                       "'... does not start with '/'");
}

// ---- Loading files and directories ----

class LoadRules : public ::testing::Test {
 protected:
  void SetUp() override {
    const auto* info = ::testing::UnitTest::GetInstance()->current_test_info();
    dir_ = (fs::path(::testing::TempDir()) /
            fmt::format("cmdgate_parser_{}_{}", info->name(), ::getpid()))
               .string();
    fs::remove_all(dir_);
    ASSERT_TRUE(fs::create_directories(dir_));
  }
  void TearDown() override {
    std::error_code ec;
    fs::remove_all(dir_, ec);
  }

  // Writes dir_/name and returns its path.
  std::string write(const std::string& name, std::string_view content) {
    const std::string path = dir_ + "/" + name;
    fs::create_directories(fs::path(path).parent_path());
    std::ofstream out(path, std::ios::binary);
    out << content;
    EXPECT_TRUE(out.good()) << path;
    return path;
  }

  Result<RuleSet> load(const std::vector<std::string>& paths) { return load_rules(paths, kNames); }

  RuleSet load_ok(const std::vector<std::string>& paths) {
    auto set = load(paths);
    EXPECT_TRUE(set.ok()) << (set.ok() ? "" : set.error().message);
    return set.ok() ? std::move(*set) : RuleSet{};
  }

  std::string load_error(const std::vector<std::string>& paths) {
    auto set = load(paths);
    EXPECT_FALSE(set.ok());
    return set.ok() ? "" : set.error().message;
  }

  static std::string rule(std::string_view id, int priority = 0) {
    return fmt::format("[[rule]]\nid = \"{}\"\naction = \"deny\"\npriority = {}\n", id, priority);
  }

  std::string dir_;
};

TEST_F(LoadRules, DirectoryFilesAreSortedByName) {
  write("d/b.toml", rule("b1") + rule("b2"));
  write("d/a.toml", rule("a1"));
  write("d/10-x.toml", rule("x1"));
  write("d/notes.txt", "this is not toml");
  write("d/.hidden.toml", rule("hidden"));
  write("d/sub/c.toml", rule("nested"));
  const std::string extra = write("extra.toml", rule("e1"));
  const RuleSet set = load_ok({dir_ + "/d", extra});
  EXPECT_THAT(ids(set), ElementsAre("x1", "a1", "b1", "b2", "e1"));
  EXPECT_THAT(set.sources,
              ElementsAre(dir_ + "/d/10-x.toml", dir_ + "/d/a.toml", dir_ + "/d/b.toml", extra));
  EXPECT_EQ(set.rules[1].where.file, dir_ + "/d/a.toml");
}

TEST_F(LoadRules, PrecedenceAcrossFilesKeepsLoadOrderForTies) {
  const std::string z = write("z.toml", rule("z-low", -5) + rule("z-tie") + rule("z-top", 100));
  const std::string a = write("a.toml", rule("a-tie") + rule("a-high", 7) + rule("a-tie2"));
  // Files in the order given (z before a), not by name.
  const RuleSet set = load_ok({z, a});
  EXPECT_THAT(ids(set), ElementsAre("z-top", "a-high", "z-tie", "a-tie", "a-tie2", "z-low"));
  EXPECT_THAT(set.sources, ElementsAre(z, a));
}

TEST_F(LoadRules, DuplicateIdAcrossFilesNamesBothLocations) {
  const std::string one = write("one.toml", rule("dup"));
  const std::string two = write("two.toml", "\n\n" + rule("dup"));
  EXPECT_EQ(
      load_error({one, two}),
      two + ":4:6: rule 'dup': key 'id': duplicate rule id (first defined at " + one + ":2:6)");
}

TEST_F(LoadRules, ConflictingTopLevelSettingsNameBothLocations) {
  const std::string a = write("a.toml", "mode = \"monitor\"\n");
  const std::string b = write("b.toml", "# comment\nmode = \"enforce\"\n");
  EXPECT_EQ(load_error({a, b}),
            b + ":2:8: key 'mode': \"enforce\" conflicts with \"monitor\" set at " + a + ":1:8");
  const std::string c = write("c.toml", "ask_timeout = \"30s\"\n");
  const std::string d = write("d.toml", "ask_timeout = \"31s\"\n");
  EXPECT_EQ(load_error({c, d}),
            d + ":1:15: key 'ask_timeout': \"31s\" conflicts with \"30s\" set at " + c + ":1:15");
  const std::string e = write("e.toml", "default_action = \"deny\"\n");
  const std::string f = write("f.toml", "default_action = \"allow\"\n");
  EXPECT_THAT(load_error({e, f}), StartsWith(f + ":1:18: key 'default_action':"));
  const std::string g = write("g.toml", "timeout_action = \"deny\"\n");
  const std::string h = write("h.toml", "timeout_action = \"allow\"\n");
  EXPECT_THAT(load_error({g, h}), StartsWith(h + ":1:18: key 'timeout_action':"));
}

TEST_F(LoadRules, EqualTopLevelSettingsMayRepeat) {
  const std::string a = write("a.toml", "mode = \"monitor\"\nask_timeout = \"2m\"\n" + rule("r1"));
  const std::string b = write("b.toml", "mode = \"monitor\"\nask_timeout = \"120s\"\n");
  const std::string c = write("c.toml", "default_action = \"ask\"\n");
  const RuleSet set = load_ok({a, b, c});
  EXPECT_EQ(set.mode, Mode::kMonitor);
  EXPECT_EQ(set.ask_timeout, milliseconds(120'000));
  EXPECT_EQ(set.default_action, Action::kAsk);
  EXPECT_EQ(set.timeout_action, Action::kDeny);
  EXPECT_THAT(ids(set), ElementsAre("r1"));
}

TEST_F(LoadRules, EmptyFileIsValid) {
  const std::string empty = write("empty.toml", "");
  const RuleSet set = load_ok({empty});
  EXPECT_THAT(set.rules, IsEmpty());
  EXPECT_THAT(set.sources, ElementsAre(empty));
}

TEST_F(LoadRules, ErrorsNameTheFile) {
  const std::string ok = write("ok.toml", rule("fine"));
  const std::string bad =
      write("bad.toml", "# header\n\n[[rule]]\nid = \"x\"\naction = \"nope\"\n");
  EXPECT_THAT(load_error({ok, bad}), StartsWith(bad + ":5:10: rule 'x': key 'action':"));
  const std::string syntax = write("syntax.toml", "mode = \n");
  EXPECT_THAT(load_error({syntax}), StartsWith(syntax + ":1:8: TOML syntax error: "));
}

TEST_F(LoadRules, MissingPathsAndEmptyDirectoriesAreErrors) {
  EXPECT_EQ(load_error({dir_ + "/missing.toml"}),
            dir_ + "/missing.toml: No such file or directory");
  fs::create_directories(dir_ + "/empty");
  EXPECT_EQ(load_error({dir_ + "/empty"}), dir_ + "/empty: directory contains no *.toml files");
  write("txt/readme.txt", "x");
  write("txt/.hidden.toml", rule("h"));
  EXPECT_EQ(load_error({dir_ + "/txt"}), dir_ + "/txt: directory contains no *.toml files");
  EXPECT_EQ(load_error({}), "no rules files or directories given");
}

TEST_F(LoadRules, TomlEntryThatIsNotAFileIsAnErrorNotSkipped) {
  write("d/a.toml", rule("a"));
  fs::create_directories(dir_ + "/d/b.toml");
  EXPECT_EQ(load_error({dir_ + "/d"}), dir_ + "/d/b.toml: not a regular file");
}

TEST_F(LoadRules, FileSizeLimit) {
  const std::string big = write("big.toml", "");
  fs::resize_file(big, kMaxFileBytes + 1);  // sparse: nothing is written
  EXPECT_EQ(load_error({big}),
            big + ": file is 67108865 bytes; at most 67108864 are allowed");
}

TEST(SystemNameResolver, LooksUpRoot) {
  const SystemNameResolver names;
  EXPECT_EQ(names.uid("root"), 0u);
  EXPECT_EQ(names.gid("root"), 0u);
  EXPECT_EQ(names.uid("no-such-user-cmdgate-test"), std::nullopt);
  EXPECT_EQ(names.gid("no-such-group-cmdgate-test"), std::nullopt);
  EXPECT_EQ(names.uid(""), std::nullopt);
}

}  // namespace
}  // namespace cmdgate::rules
