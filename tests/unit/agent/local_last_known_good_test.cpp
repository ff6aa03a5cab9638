// The last-known-good copy of the local rule files: what save() writes, load() gives back whole;
// anything else in its place is an error naming the file.

#include "policy/local_last_known_good.h"

#include <gtest/gtest.h>
#include <stdlib.h>
#include <sys/stat.h>

#include <filesystem>
#include <fstream>

namespace cmdgate {
namespace {

class LocalCopyTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/cmdgate-lkg.XXXXXX";
    dir_ = ::mkdtemp(tmpl);
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }
  std::string dir_;
};

TEST_F(LocalCopyTest, WhatWasSavedComesBackWholeAndIsNotRewrittenUnchanged) {
  LocalLastKnownGood copy(dir_ + "/state/local-rules.json");
  const std::vector<rules::RulesText> files = {
      {"/etc/cmdgate/rules.d/10-default.toml", "default_action = \"allow\"\n# é\n"},
      {"/etc/cmdgate/rules.d/50-x.toml",
       "[[rule]]\nid = \"x\"\naction = \"deny\"\npath = \"/x\"\n"}};
  ASSERT_TRUE(copy.save(files));
  struct stat first {};
  ASSERT_EQ(::stat(copy.path().c_str(), &first), 0);
  EXPECT_EQ(first.st_mode & 0777, 0600u);
  auto loaded = copy.load();
  ASSERT_TRUE(loaded) << loaded.error().message;
  ASSERT_EQ(loaded->files.size(), 2u);
  for (size_t i = 0; i < files.size(); ++i) {
    EXPECT_EQ(loaded->files[i].origin, files[i].origin);
    EXPECT_EQ(loaded->files[i].text, files[i].text);
  }
  EXPECT_GT(loaded->saved_unix_ms, 0u);
  // Every reload saves: the same texts again, read anew, leave the file (and its time) alone...
  ASSERT_TRUE(copy.save(files));
  struct stat again {};
  ASSERT_EQ(::stat(copy.path().c_str(), &again), 0);
  EXPECT_EQ(again.st_ino, first.st_ino);
  // ...and other texts replace it.
  std::vector<rules::RulesText> edited = files;
  edited[1].text += "# edited\n";
  ASSERT_TRUE(copy.save(edited));
  auto reloaded = copy.load();
  ASSERT_TRUE(reloaded) << reloaded.error().message;
  ASSERT_EQ(reloaded->files.size(), 2u);
  EXPECT_EQ(reloaded->files[1].text, edited[1].text);
}

// What the copy compares is the list of files, not their bytes run together.
TEST_F(LocalCopyTest, TextsThatOnlyMoveBetweenFilesAreOtherTexts) {
  LocalLastKnownGood copy(dir_ + "/local-rules.json");
  ASSERT_TRUE(copy.save({{"/r/a.toml", "# a\n# b\n"}, {"/r/b.toml", "# c\n"}}));
  ASSERT_TRUE(copy.save({{"/r/a.toml", "# a\n"}, {"/r/b.toml", "# b\n# c\n"}}));
  auto loaded = copy.load();
  ASSERT_TRUE(loaded) << loaded.error().message;
  ASSERT_EQ(loaded->files.size(), 2u);
  EXPECT_EQ(loaded->files[0].text, "# a\n");
  EXPECT_EQ(loaded->files[1].text, "# b\n# c\n");
}

TEST_F(LocalCopyTest, AMissingOrForeignFileIsAnErrorNamingIt) {
  LocalLastKnownGood copy(dir_ + "/local-rules.json");
  auto missing = copy.load();
  ASSERT_FALSE(missing);
  EXPECT_NE(missing.error().message.find(copy.path()), std::string::npos);
  for (const char* text : {"", "{}", "{\"saved_unix_ms\": 1, \"files\": []}",
                           "{\"saved_unix_ms\": 1, \"files\": [{\"origin\": 1}]}"}) {
    std::ofstream(copy.path(), std::ios::trunc) << text;
    ::chmod(copy.path().c_str(), 0600);
    auto bad = copy.load();
    ASSERT_FALSE(bad) << text;
    EXPECT_EQ(bad.error().message, copy.path() + ": not a last-known-good copy of the local rules");
  }
}

}  // namespace
}  // namespace cmdgate
