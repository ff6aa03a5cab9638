// The parser's refusals: each names file:line:column and the key.
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <map>

#include "parse_fixture.h"
#include "rules/parser.h"

namespace cmdgate::rules {
namespace {

using std::chrono::milliseconds;
using ::testing::HasSubstr;
using ::testing::StartsWith;
using namespace testing;  // parse_fixture.h

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
            "user, group, parent, ancestor, tty, cgroup, file, agent, trust)");
}

TEST(ParseErrors, TrustTakesOnlyTheSourcesItKnows) {
  const std::string head = "[[rule]]\nid = \"r1\"\naction = \"allow\"\n";
  EXPECT_EQ(parse_error(head + "trust = \"distro\""),
            "t.toml:4:9: rule 'r1': key 'trust': expected one of \"package\"; got 'distro'");
  EXPECT_EQ(parse_error(head + "trust = [\"package\", \"signed\"]"),
            "t.toml:4:21: rule 'r1': key 'trust': expected one of \"package\"; got 'signed'");
  EXPECT_EQ(parse_error(head + "trust = true"),
            "t.toml:4:9: rule 'r1': key 'trust': expected one of \"package\", got a boolean");
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
            "t.toml:4:16: rule 'a': key 'path': glob '/usr/bin\\\\' ends with a lone backslash");
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

}  // namespace
}  // namespace cmdgate::rules
