// [[agent]] declarations, the `agent` match key and [lists]: declared once, used from any loaded
// file, every error at the file:line:column of the value at fault.

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "policy_test_util.h"
#include "rules/agent_match.h"
#include "rules/compiled_policy.h"
#include "rules/parser.h"
#include "rules/reference_evaluator.h"

namespace cmdgate::rules {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;

class Names final : public NameResolver {
 public:
  std::optional<uint32_t> uid(const std::string& name) const override {
    return name == "alice" ? std::optional<uint32_t>(1000) : std::nullopt;
  }
  std::optional<uint32_t> gid(const std::string&) const override { return std::nullopt; }
};

Result<RuleSet> parse(const std::vector<RulesText>& files) {
  return parse_rules_texts(files, Names());
}

RuleSet parse_ok(const std::vector<RulesText>& files) {
  auto set = parse(files);
  EXPECT_TRUE(set.ok()) << (set.ok() ? "" : set.error().message);
  return set.ok() ? std::move(*set) : RuleSet{};
}

std::string parse_error(const std::vector<RulesText>& files) {
  auto set = parse(files);
  EXPECT_FALSE(set.ok()) << "parsed without error";
  return set.ok() ? "" : set.error().message;
}

const char* kAgents = R"([[agent]]
name = "claude"
description = "Claude Code"
path = ["/opt/claude/bin/claude", "/home/*/.local/share/claude/versions/*"]
comm = ["claude"]

[[agent]]
name = "codex"
comm = ["codex*"]
unit = ["codex-agent*"]
)";

TEST(Agents, DeclarationsAreNumberedInLoadOrder) {
  const RuleSet set = parse_ok({{"agents.toml", kAgents}});
  ASSERT_EQ(set.agents.size(), 2u);
  const AgentDecl& claude = set.agents[0];
  EXPECT_EQ(claude.name, "claude");
  EXPECT_EQ(claude.description, "Claude Code");
  EXPECT_THAT(claude.paths, ElementsAre("/opt/claude/bin/claude"));
  EXPECT_THAT(claude.path_globs, ElementsAre("/home/*/.local/share/claude/versions/*"));
  EXPECT_THAT(claude.comms, ElementsAre("claude"));
  EXPECT_EQ(claude.bit, 0u);
  EXPECT_EQ(claude.where.line, 1u);
  EXPECT_THAT(set.agents[1].comms, ElementsAre("codex*"));
  EXPECT_THAT(set.agents[1].units, ElementsAre("codex-agent*"));
  EXPECT_EQ(set.agents[1].bit, 1u);
}

TEST(Agents, RulesNameAgentsDeclaredInAnyFile) {
  // The rule comes first in load order; the agents are declared in a later file.
  const RuleSet set = parse_ok({{"a.toml", R"([[rule]]
id = "one"
action = "ask"
agent = "codex"
[[rule]]
id = "any"
action = "ask"
agent = "*"
[[rule]]
id = "list"
action = "ask"
agent = ["claude", "codex", "claude"]
)"},
                                {"z.toml", kAgents}});
  ASSERT_EQ(set.rules.size(), 3u);
  EXPECT_THAT(set.rules[0].match.agents, ElementsAre("codex"));
  EXPECT_THAT(set.rules[1].match.agents, ElementsAre("claude", "codex"));
  EXPECT_THAT(set.rules[2].match.agents, ElementsAre("claude", "codex"));
  EXPECT_EQ(agent_mask(set, set.rules[0].match.agents), 2u);
  EXPECT_EQ(agent_mask(set, set.rules[1].match.agents), 3u);
}

TEST(Agents, AgentPredicateReadsTheLabel) {
  auto set = parse_ok({{"t.toml", std::string(kAgents) + R"(
[[rule]]
id = "codex-only"
action = "deny"
agent = "codex"
)"}});
  testing::FakeResolver files;
  auto policy = compile_policy(set, files);
  ASSERT_TRUE(policy.ok());
  testing::OwnedContext c;
  const auto decide = [&](uint64_t agents, uint32_t unknown) {
    c.agents = agents;
    c.unknown = unknown;
    const Decision d = (*policy)->evaluate(c.view());
    const Decision ref = evaluate_reference((*policy)->rule_set(), (*policy)->resolved_paths(),
                                            c.view());
    EXPECT_EQ(d.rule, ref.rule);
    EXPECT_EQ(d.uncertain, ref.uncertain);
    return std::string(d.rule != nullptr ? d.rule->id : "default") +
           (d.uncertain ? " uncertain" : "");
  };
  EXPECT_EQ(decide(0, 0), "default");
  EXPECT_EQ(decide(1, 0), "default");  // claude's bit
  EXPECT_EQ(decide(2, 0), "codex-only");
  EXPECT_EQ(decide(3, 0), "codex-only");
  // A label that was never established might carry codex's bit; a recorded bit is certain.
  EXPECT_EQ(decide(0, kUnknownAgent), "codex-only uncertain");
  EXPECT_EQ(decide(2, kUnknownAgent), "codex-only");
}

TEST(Agents, PathsResolveToFilesAndDirectories) {
  testing::FakeResolver files;
  files.add("/opt/claude/bin/claude", FileId{1, 10});
  files.add("/home/alice/.local/share/claude/versions", FileId{1, 11});
  files.add("/home/bob/.local/share/claude/versions", FileId{1, 12});
  files.add("/home/bob/.local/share/claude/versions/2.0.1", FileId{1, 13});
  auto set = parse_ok({{"t.toml", R"([[agent]]
name = "claude"
path = ["/opt/claude/bin/claude", "/home/*/.local/share/claude/versions/*",
        "/home/*/.local/share/claude/versions/2.?.1", "/nowhere/*/agent"]
)"}});
  const auto agents = resolve_agents(set, files);
  ASSERT_EQ(agents.size(), 1u);
  std::vector<std::string> texts;
  for (const auto& f : agents[0].files) {
    texts.push_back(f.text + (f.id ? "" : " (missing)"));
  }
  EXPECT_THAT(texts, ElementsAre("/opt/claude/bin/claude",
                                 "/home/bob/.local/share/claude/versions/2.0.1"));
  texts.clear();
  for (const auto& d : agents[0].dirs) {
    texts.push_back(d.text);
  }
  EXPECT_THAT(texts, ElementsAre("/home/alice/.local/share/claude/versions",
                                 "/home/bob/.local/share/claude/versions"));
}

// What `cmdgate explain` works out for a process: the kernel labels any file in a declared
// directory, whatever bytes its name holds, so the user-space match must too.
TEST(Agents, AProcessIsOneByItsPathWhateverBytesTheNameHolds) {
  const RuleSet set = parse_ok({{"agents.toml", kAgents}});
  EXPECT_EQ(agents_of_process(set, "node", "/home/bob/.local/share/claude/versions/2.0.1"), 1u);
  EXPECT_EQ(agents_of_process(set, "node", "/home/bob/.local/share/claude/versions/\xff\xfe"), 1u);
  EXPECT_EQ(agents_of_process(set, "node", "/home/bob/.local/share/claude/other/\xff"), 0u);
  EXPECT_EQ(agents_of_process(set, "codex-cli", ""), 2u);
}

TEST(AgentErrors, NamedWithFileLineAndColumn) {
  EXPECT_EQ(parse_error({{"a.toml", kAgents}, {"b.toml", R"([[rule]]
id = "r"
action = "ask"
agent = ["claude", "gemini"]
)"}}),
            "b.toml:4:20: rule 'r': key 'agent': unknown agent 'gemini' (declared agents: "
            "'claude', 'codex')");
  EXPECT_EQ(parse_error({{"b.toml", R"([[rule]]
id = "r"
action = "ask"
agent = "*"
)"}}),
            "b.toml:4:9: rule 'r': key 'agent': no [[agent]] is declared in the loaded files");
  EXPECT_EQ(parse_error({{"a.toml", kAgents}, {"b.toml", "[[agent]]\nname = \"codex\"\ncomm = \"x\"\n"}}),
            "b.toml:2:8: agent #1: key 'name': agent 'codex' is already declared at a.toml:7:1");
  EXPECT_EQ(parse_error({{"a.toml", "[[agent]]\nname = \"x\"\n"}}),
            "a.toml:1:1: agent 'x': says nothing that marks a process as this agent: give a "
            "path, comm or unit");
  EXPECT_EQ(parse_error({{"a.toml", "[[agent]]\nname = \"x\"\npath = \"/opt/**/x\"\n"}}),
            "a.toml:3:8: agent 'x': key 'path': '/opt/**/x': agent paths are expanded when the "
            "rules are loaded, and '**' would search whole trees; name the directories (e.g. "
            "'/opt/*/bin/agent', or '/opt/agent/versions/*' for every file in a directory)");
  EXPECT_THAT(parse_error({{"a.toml", "[[agent]]\nname = \"x\"\ncomm = \"c?dex\"\n"}}),
              HasSubstr("a.toml:3:8: agent 'x': key 'comm': 'c?dex': the kernel matches a name "
                        "exactly or by its start"));
  EXPECT_THAT(parse_error({{"a.toml", "[[agent]]\nname = \"x\"\ncomm = \"*\"\n"}}),
              HasSubstr("a.toml:3:8: agent 'x': key 'comm'"));
  EXPECT_THAT(parse_error({{"a.toml", "[[agent]]\nname = \"x\"\ncomm = \"abcdefghijklmnopq\"\n"}}),
              HasSubstr("is longer than 15 characters"));
  EXPECT_EQ(parse_error({{"a.toml", "[[agent]]\nname = \"x y\"\ncomm = \"x\"\n"}}),
            "a.toml:2:8: agent #1: key 'name': 'x y' is not a valid agent name (1 to 31 "
            "characters from A-Z a-z 0-9 . _ -, starting with a letter or digit)");
  EXPECT_EQ(parse_error({{"a.toml", "[[agent]]\nname = \"x\"\ncomm = \"x\"\nexe = \"/x\"\n"}}),
            "a.toml:4:1: agent 'x': unknown key 'exe' (valid keys: name, description, path, "
            "comm, unit)");
}

const char* kLists = R"([lists]
shells = ["/bin/sh", "/bin/bash"]
admins = ["alice", 0]
flags = ['^-f$', '^--force$']
)";

TEST(Lists, ExpandWhereverAValueOrArrayIsExpected) {
  const RuleSet set = parse_ok({{"rules.toml", R"([[rule]]
id = "r"
action = "deny"
path = ["@shells", "/bin/zsh"]
user = "@admins"
args = "@flags"
)"},
                                {"lists.toml", kLists}});
  ASSERT_EQ(set.rules.size(), 1u);
  const Match& m = set.rules[0].match;
  EXPECT_THAT(m.paths, ElementsAre("/bin/sh", "/bin/bash", "/bin/zsh"));
  EXPECT_THAT(m.uids, ElementsAre(1000u, 0u));
  EXPECT_THAT(m.args, ElementsAre("^-f$", "^--force$"));
}

TEST(Lists, UsableInAgentDeclarations) {
  const RuleSet set = parse_ok({{"t.toml", R"([lists]
names = ["claude", "claude-code"]
[[agent]]
name = "claude"
comm = "@names"
)"}});
  ASSERT_EQ(set.agents.size(), 1u);
  EXPECT_THAT(set.agents[0].comms, ElementsAre("claude", "claude-code"));
}

TEST(ListErrors, NamedWithFileLineAndColumn) {
  EXPECT_EQ(parse_error({{"lists.toml", kLists}, {"rules.toml", R"([[rule]]
id = "r"
action = "deny"
path = ["@shell"]
)"}}),
            "rules.toml:4:9: rule 'r': key 'path': unknown list 'shell' (declared lists: "
            "'admins', 'flags', 'shells'; a value that starts with '@' names a list)");
  EXPECT_EQ(parse_error({{"rules.toml", "[[rule]]\nid = \"r\"\naction = \"deny\"\npath = \"@x\"\n"}}),
            "rules.toml:4:8: rule 'r': key 'path': unknown list 'x' (no [lists] are declared; a "
            "value that starts with '@' names a list)");
  // A bad value is reported where the list holds it, naming the rule that uses it.
  EXPECT_EQ(parse_error({{"lists.toml", "[lists]\nbins = [\"/bin/sh\", \"bin/ls\"]\n"},
                         {"rules.toml", "[[rule]]\nid = \"r\"\naction = \"deny\"\npath = \"@bins\"\n"}}),
            "lists.toml:2:20: rule 'r': key 'path': 'bin/ls' does not start with '/'");
  EXPECT_EQ(parse_error({{"a.toml", kLists}, {"b.toml", "[lists]\nshells = [\"/bin/dash\"]\n"}}),
            "b.toml:2:1: list 'shells' is already declared at a.toml:2:1");
  EXPECT_EQ(parse_error({{"a.toml", "[lists]\nx = []\n"}}), "a.toml:2:5: list 'x': empty list");
  EXPECT_EQ(parse_error({{"a.toml", "[lists]\nx = [\"@y\"]\ny = [\"a\"]\n"}}),
            "a.toml:2:6: list 'x': a list cannot name another list");
  EXPECT_EQ(parse_error({{"a.toml", "[lists]\nx = [1.5]\n"}}),
            "a.toml:2:6: list 'x': expected strings or integers, got a floating-point number");
  EXPECT_EQ(parse_error({{"a.toml", "lists = 3\n"}}),
            "a.toml:1:9: key 'lists': expected a table ([lists]), got an integer");
}

}  // namespace
}  // namespace cmdgate::rules
