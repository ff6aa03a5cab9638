#pragma once
// Writes decision lines. The writer is a seam: a file in production, memory in tests.

#include <memory>
#include <string>
#include <string_view>

#include "common/result.h"
#include "log/decision_record.h"

namespace spdlog {
class logger;
}

namespace cmdgate {

class LineWriter {
 public:
  virtual ~LineWriter() = default;
  virtual void write(std::string_view line) = 0;
  virtual void flush() = 0;
};

// When the file would grow past max_bytes it becomes <name>.1<ext> (decisions.1.jsonl), the
// older copies move up one number, and the one numbered max_files is deleted.
struct LogRotation {
  size_t max_bytes = 100u << 20;
  size_t max_files = 10;
};

// Appends to a file through spdlog's rotating sink (one line per record, nothing added to it).
// Lines reach the file when the next would not fit in the buffer, on flush() and when the writer
// closes; always whole.
class FileLineWriter final : public LineWriter {
 public:
  [[nodiscard]] static Result<std::unique_ptr<FileLineWriter>> open(const std::string& path,
                                                                    LogRotation rotation);
  void write(std::string_view line) override;
  void flush() override;

 private:
  static constexpr size_t kBufferBytes = 64 << 10;  // a burst of audit records' lines
  FileLineWriter() = default;

  // Declared before the logger: the file's buffer must outlive the file it buffers.
  std::unique_ptr<char[]> buffer_ = std::make_unique_for_overwrite<char[]>(kBufferBytes);
  std::shared_ptr<spdlog::logger> logger_;
  size_t buffered_ = 0;  // bytes written since the last flush
};

class DecisionLog {
 public:
  explicit DecisionLog(std::unique_ptr<LineWriter> writer) : writer_(std::move(writer)) {}
  void record(const DecisionRecord& r);
  void flush() { writer_->flush(); }

 private:
  std::unique_ptr<LineWriter> writer_;
};

}  // namespace cmdgate
