// Rules loaded from files and directories.
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

namespace fs = std::filesystem;
using std::chrono::milliseconds;
using ::testing::ElementsAre;
using ::testing::IsEmpty;
using ::testing::StartsWith;
using namespace testing;  // parse_fixture.h

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
  EXPECT_EQ(set.rules[1].where.file_name(), dir_ + "/d/a.toml");
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
