// The decision log file gets its lines in batches, not one system call per line: a line is in
// the file once the owner flushes (the daemon does on every tick) or the writer closes.

#include <gtest/gtest.h>

#include <filesystem>

#include "log/decision_log.h"
#include "processes.h"

namespace cmdgate {
namespace {

TEST(DecisionLogFlush, ALineReachesTheFileOnFlushNotBefore) {
  test::TempDir dir;
  const std::string path = dir.file("decisions.jsonl");
  auto w = FileLineWriter::open(path, LogRotation{});
  ASSERT_TRUE(w) << w.error().message;
  (*w)->write(R"({"n":1})");
  EXPECT_EQ(test::read_file(path), "");
  (*w)->flush();
  EXPECT_EQ(test::read_file(path), "{\"n\":1}\n");
}

// A burst (audit records come on the tick, dozens at a time) is one write, not one per stdio
// buffer of a few KiB.
TEST(DecisionLogFlush, ABurstOfLinesWaitsForTheFlush) {
  test::TempDir dir;
  const std::string path = dir.file("decisions.jsonl");
  auto w = FileLineWriter::open(path, LogRotation{});
  ASSERT_TRUE(w) << w.error().message;
  std::string expected;
  for (int i = 0; i < 300; ++i) {
    const std::string line = fmt::format(R"({{"n":{},"pad":"{}"}})", i, std::string(150, 'x'));
    (*w)->write(line);
    expected += line + "\n";
  }
  ASSERT_GT(expected.size(), 40000u);
  EXPECT_EQ(std::filesystem::file_size(path), 0u);
  (*w)->flush();
  EXPECT_EQ(test::read_file(path), expected);
}

// A shipper following the file reads whatever is there: never half a line. A line that fits in
// the buffer is written with the lines after it (what the buffer held goes out first, whole); a
// line longer than the buffer goes out at once.
TEST(DecisionLogFlush, TheFileAlwaysEndsAtTheEndOfALine) {
  test::TempDir dir;
  const std::string path = dir.file("decisions.jsonl");
  auto w = FileLineWriter::open(path, LogRotation{});
  ASSERT_TRUE(w) << w.error().message;
  size_t written = 0;
  for (int i = 0; i < 300; ++i) {
    const bool longer_than_the_buffer = i % 100 == 99;
    const size_t pad = longer_than_the_buffer ? 100000 : 700 + static_cast<size_t>(i) * 13 % 500;
    const std::string line = fmt::format(R"({{"n":{},"pad":"{}"}})", i, std::string(pad, 'x'));
    (*w)->write(line);
    const std::string text = test::read_file(path);
    ASSERT_TRUE(text.empty() || text.back() == '\n') << "after line " << i << ": "
                                                     << text.size() << " bytes";
    EXPECT_EQ(text.ends_with(line + "\n"), longer_than_the_buffer) << "line " << i;
    written = text.size();
  }
  EXPECT_GT(written, 500000u);
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
  EXPECT_EQ(test::read_file(path), "{\"n\":1}\n{\"n\":2}\n");
}

}  // namespace
}  // namespace cmdgate
