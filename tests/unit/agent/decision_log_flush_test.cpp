// The decision log file gets its lines in batches, not one system call per line: a line is in
// the file once the owner flushes (the daemon does on every tick) or the writer closes.

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <sstream>

#include "log/decision_log.h"
#include "processes.h"

namespace cmdgate {
namespace {

std::string text_of(const std::string& path) {
  std::ifstream in(path);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

TEST(DecisionLogFlush, ALineReachesTheFileOnFlushNotBefore) {
  test::TempDir dir;
  const std::string path = dir.file("decisions.jsonl");
  auto w = FileLineWriter::open(path, LogRotation{});
  ASSERT_TRUE(w) << w.error().message;
  (*w)->write(R"({"n":1})");
  EXPECT_EQ(text_of(path), "");
  (*w)->flush();
  EXPECT_EQ(text_of(path), "{\"n\":1}\n");
}

TEST(DecisionLogFlush, ClosingTheWriterWritesWhatItHeld) {
  test::TempDir dir;
  const std::string path = dir.file("decisions.jsonl");
  {
    auto w = FileLineWriter::open(path, LogRotation{});
    ASSERT_TRUE(w) << w.error().message;
    (*w)->write(R"({"n":1})");
    (*w)->write(R"({"n":2})");
  }
  EXPECT_EQ(text_of(path), "{\"n\":1}\n{\"n\":2}\n");
}

}  // namespace
}  // namespace cmdgate
