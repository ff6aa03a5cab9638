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

// Appends to a file through spdlog (one line per record, nothing added to it).
class FileLineWriter final : public LineWriter {
 public:
  [[nodiscard]] static Result<std::unique_ptr<FileLineWriter>> open(const std::string& path);
  void write(std::string_view line) override;
  void flush() override;

 private:
  std::shared_ptr<spdlog::logger> logger_;
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
