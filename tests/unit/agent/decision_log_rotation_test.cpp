// The decision log rotates itself (no logrotate copytruncate): by size, keeping a fixed number of
// older files, never splitting a line.

#include <gtest/gtest.h>
#include <stdlib.h>

#include <filesystem>
#include <fstream>
#include <sstream>

#include "log/decision_log.h"

namespace cmdgate {
namespace {

TEST(DecisionLogRotation, RotatesBySizeKeepingTheConfiguredNumberOfFiles) {
  char tmpl[] = "/tmp/cmdgate-log.XXXXXX";
  const std::string dir = ::mkdtemp(tmpl);
  const std::string path = dir + "/decisions.jsonl";
  {
    auto w = FileLineWriter::open(path, LogRotation{4096, 2});
    ASSERT_TRUE(w) << w.error().message;
    for (int i = 0; i < 1000; ++i) {
      (*w)->write(fmt::format(R"({{"n":{},"pad":"{}"}})", i, std::string(40, 'x')));
    }
    (*w)->flush();
  }
  int last_seen = 1000;
  // Newest first: decisions.jsonl, decisions.1.jsonl, decisions.2.jsonl.
  for (const std::string name : {"decisions.jsonl", "decisions.1.jsonl", "decisions.2.jsonl"}) {
    const std::string file = dir + "/" + name;
    ASSERT_TRUE(std::filesystem::exists(file)) << file;
    EXPECT_LE(std::filesystem::file_size(file), 4096u) << file;
    std::ifstream in(file);
    std::string line;
    int first = -1;
    int count = 0;
    while (std::getline(in, line)) {
      ASSERT_TRUE(line.starts_with("{\"n\":") && line.ends_with("\"}")) << file << ": " << line;
      if (first < 0) {
        first = std::stoi(line.substr(5));
      }
      ++count;
    }
    ASSERT_GT(count, 0) << file;
    EXPECT_EQ(first + count, last_seen) << file << ": lines are lost between files";
    last_seen = first;
  }
  EXPECT_FALSE(std::filesystem::exists(dir + "/decisions.3.jsonl"));
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace cmdgate
