// parse_shell_line: what bash would run for a `bash -c` line, word by word.

#include "rules/shell_line.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

namespace cmdgate::rules {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;

ShellEnv env() {
  ShellEnv e;
  e.cwd = "/home/a/p";
  e.vars = {{"HOME", "/home/a"}, {"SPACED", "x  y"}, {"LATER", std::nullopt}};
  return e;
}

// Each command's words, joined by '|'; unknown words end in '?'.
std::vector<std::string> commands(std::string_view line) {
  auto parsed = parse_shell_line(line, env());
  EXPECT_TRUE(parsed.ok()) << line << ": " << (parsed.ok() ? "" : parsed.error().message);
  std::vector<std::string> out;
  for (const ShellCommand& c : parsed.ok() ? *parsed : std::vector<ShellCommand>{}) {
    std::string s;
    for (const ShellWord& w : c.words) {
      s += (s.empty() ? "" : "|") + w.text + (w.unknown ? "?" : "");
    }
    out.push_back(s);
  }
  return out;
}

std::string error(std::string_view line) {
  auto parsed = parse_shell_line(line, env());
  EXPECT_FALSE(parsed.ok()) << line << " parsed";
  return parsed.ok() ? "" : parsed.error().message;
}

TEST(ShellLine, SplitsListsPipelinesAndSubshells) {
  EXPECT_THAT(commands("a 1; b && c || d | e & f\ng"),
              ElementsAre("a|1", "b", "c", "d", "e", "f", "g"));
  EXPECT_THAT(commands("(cd x && y) ; { z; }"), ElementsAre("cd|x", "y", "z"));
  EXPECT_THAT(commands("a|&b"), ElementsAre("a", "b"));
  EXPECT_THAT(commands("a # b; c\nd"), ElementsAre("a", "d"));
}

TEST(ShellLine, UndoesQuotesAndBackslashesAsBash) {
  EXPECT_THAT(commands(R"(git -c alias.p='push --force' p)"),
              ElementsAre("git|-c|alias.p=push --force|p"));
  EXPECT_THAT(commands(R"(echo "a \"b\" \$c \\ \x" 'it''s' a\ b)"),
              ElementsAre(R"(echo|a "b" $c \ \x|its|a b)"));
  EXPECT_THAT(commands("echo \"\" ''"), ElementsAre("echo||"));
  EXPECT_THAT(commands("ec\\\nho a"), ElementsAre("echo|a"));  // line continuation
  EXPECT_THAT(commands(R"(printf $'a\tb\x41\101\'\n')"), ElementsAre("printf|a\tbAA'\n"));
}

TEST(ShellLine, KeepsBytesThatAreNotUtf8) {
  EXPECT_THAT(commands("rm -rf '\xff\xfe/'"), ElementsAre("rm|-rf|\xff\xfe/"));
  EXPECT_THAT(commands("g\xe9t push"), ElementsAre("g\xe9t|push"));
  EXPECT_THAT(commands(R"(x $'\xff')"), ElementsAre("x|\xff"));
}

TEST(ShellLine, ExpandsWhatTheLineTellsAndMarksTheRest) {
  EXPECT_THAT(commands("rm -rf ~/x $HOME ${HOME}/y ~other"),
              ElementsAre("rm|-rf|/home/a/x|/home/a|/home/a/y|~other?"));
  EXPECT_THAT(commands("echo $SPACED \"$SPACED\" $UNSET"), ElementsAre("echo|x|y|x  y"));
  EXPECT_THAT(commands("B=main; git push origin +$B"), ElementsAre("git|push|origin|+main"));
  EXPECT_THAT(commands("X=1 cmd $X"), ElementsAre("cmd"));  // X is cmd's, not the line's
  EXPECT_THAT(commands("echo $LATER ${X:-d} $((1+2))"),
              ElementsAre("echo|$LATER?|${X:-d}?|$((1+2))?"));
  EXPECT_THAT(commands("for b in a c; do git push origin :$b; done"),
              ElementsAre("git|push|origin|:$b?"));
}

TEST(ShellLine, RunsSubstitutionsBeforeTheCommandThatUsesThem) {
  EXPECT_THAT(commands("kill $(pidof \"x y\") `id -u`"),
              ElementsAre("pidof|x y", "id|-u", "kill|$(pidof \"x y\")?|`id -u`?"));
  EXPECT_THAT(commands("diff <(sort a) b"), ElementsAre("sort|a", "diff|/dev/fd/63|b"));
  EXPECT_THAT(commands("echo \"$(echo ')')\""), ElementsAre("echo|)", "echo|$(echo ')')?"));
}

TEST(ShellLine, SkipsRedirectionsAndReadsHereDocuments) {
  EXPECT_THAT(commands("make >build.log 2>&1 </dev/null; cat <<<x"),
              ElementsAre("make", "cat"));
  EXPECT_THAT(commands("cat <<EOF\n$(rm -rf /)\nEOF\nls"), ElementsAre("cat", "rm|-rf|/", "ls"));
  EXPECT_THAT(commands("cat <<'EOF'\n$(rm -rf /)\nEOF\nls"), ElementsAre("cat", "ls"));
}

TEST(ShellLine, TracksTheDirectoryOfEachCommand) {
  auto parsed = parse_shell_line("cd build && ./t; cd /tmp; x; cd $(d); y", env());
  ASSERT_TRUE(parsed.ok());
  ASSERT_EQ(parsed->size(), 7u);  // cd, ./t, cd, x, d, cd, y
  EXPECT_EQ((*parsed)[1].cwd, "/home/a/p/build");
  EXPECT_EQ((*parsed)[3].cwd, "/tmp");
  EXPECT_FALSE((*parsed)[5].cwd_unknown);
  EXPECT_TRUE((*parsed)[6].cwd_unknown);
  EXPECT_EQ(join_path("/a/b", "../../../c/./d"), "/c/d");
}

TEST(ShellLine, ReportsWhatItCannotRead) {
  EXPECT_THAT(error("echo 'abc"), HasSubstr("unterminated single quote"));
  EXPECT_THAT(error("echo \"abc"), HasSubstr("unterminated double quote"));
  EXPECT_THAT(error("echo $(ls"), HasSubstr("missing ')'"));
  EXPECT_THAT(error("echo `ls"), HasSubstr("unterminated backquote"));
  EXPECT_THAT(error("case $x in a) rm -rf /;; esac"), HasSubstr("'case' is not read"));
  EXPECT_THAT(error("a=(1 2)"), HasSubstr("array assignment"));
  EXPECT_THAT(error("echo )"), HasSubstr("unexpected ')'"));
  std::string deep = "x";
  for (int i = 0; i < 40; ++i) {
    deep = "$(" + deep + ")";
  }
  EXPECT_THAT(error(deep), HasSubstr("nested too deep"));
}

}  // namespace
}  // namespace cmdgate::rules
