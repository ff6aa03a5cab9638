// PathWatch: a change to any watched name is seen, whichever directory holds it and however
// many other watched names share that directory; other names in the same directories are not.

#include "policy/path_watch.h"

#include <gtest/gtest.h>
#include <sys/stat.h>

#include <fstream>

#include "processes.h"

namespace cmdgate {
namespace {

class PathWatchTest : public ::testing::Test {
 protected:
  void SetUp() override {
    for (const char* dir : {"/bin", "/rules.d"}) {
      ASSERT_EQ(::mkdir(tmp_.file(dir).c_str(), 0755), 0);
    }
    auto w = PathWatch::create();
    ASSERT_TRUE(w) << w.error().message;
    watch_ = std::move(*w);
    std::vector<std::string> files;
    for (int i = 0; i < 50; ++i) {
      files.push_back(tmp_.file("bin/tool-" + std::to_string(i)));
    }
    files.push_back(tmp_.file("missing/tool"));
    files.push_back(tmp_.file("other"));
    watch_->watch({tmp_.file("rules.d"), tmp_.file("local.toml")}, files);
    ASSERT_FALSE(watch_->consume());
  }
  bool touched(const std::string& name) {
    std::ofstream(tmp_.file(name)) << "x";
    return watch_->consume();
  }

  test::TempDir tmp_;
  std::unique_ptr<PathWatch> watch_;
};

TEST_F(PathWatchTest, EveryWatchedNameIsSeen) {
  EXPECT_TRUE(touched("bin/tool-0"));
  EXPECT_TRUE(touched("bin/tool-49"));
  EXPECT_TRUE(touched("bin/tool-17"));
  EXPECT_TRUE(touched("other"));
  EXPECT_TRUE(touched("local.toml"));
  EXPECT_TRUE(touched("rules.d/10-new.toml"));
}

TEST_F(PathWatchTest, OtherNamesInTheSameDirectoriesAreNot) {
  EXPECT_FALSE(touched("bin/tool-50"));
  EXPECT_FALSE(touched("unrelated"));
  EXPECT_FALSE(touched("rules.d/notes.txt"));
  EXPECT_FALSE(touched("rules.d/.hidden.toml"));
}

}  // namespace
}  // namespace cmdgate
