#include "log/decision_log.h"

#include <spdlog/sinks/rotating_file_sink.h>
#include <spdlog/spdlog.h>

#include <cstdio>
#include <filesystem>

#include "log/json_serializer.h"

namespace cmdgate {

Result<std::unique_ptr<FileLineWriter>> FileLineWriter::open(const std::string& path,
                                                             LogRotation rotation) {
  std::error_code ec;
  const auto dir = std::filesystem::path(path).parent_path();
  if (!dir.empty()) {
    std::filesystem::create_directories(dir, ec);
  }
  try {
    auto w = std::unique_ptr<FileLineWriter>(new FileLineWriter());
    // Each file the sink opens (the first, then one per rotation) buffers in the writer's block,
    // so that a tick's lines take one write.
    spdlog::file_event_handlers handlers;
    handlers.after_open = [buffer = w->buffer_.get()](const spdlog::filename_t&, std::FILE* f) {
      std::setvbuf(f, buffer, _IOFBF, kBufferBytes);
    };
    auto sink = std::make_shared<spdlog::sinks::rotating_file_sink_st>(
        path, rotation.max_bytes, rotation.max_files, false, handlers);
    w->logger_ = std::make_shared<spdlog::logger>("decisions", std::move(sink));
    w->logger_->set_pattern("%v");
    w->logger_->set_level(spdlog::level::info);
    // Lines are not flushed one by one: the owner calls flush() (the daemon, on its tick). A
    // write per line would be a system call, after every resume, on the CPU the resumed
    // process is waiting for.
    w->logger_->flush_on(spdlog::level::off);
    return w;
  } catch (const spdlog::spdlog_ex& ex) {
    return Error::format("opening decision log {}: {}", path, ex.what());
  }
}

void FileLineWriter::write(std::string_view line) {
  // Each write(2) ends at the end of a line, so a reader of the file (a shipper following it)
  // never meets half of one: what the buffer holds goes out before a line that would not fit,
  // and a line longer than the whole buffer goes out at once.
  const size_t bytes = line.size() + 1;  // and the newline
  if (buffered_ + bytes > kBufferBytes) {
    flush();
  }
  logger_->info("{}", line);
  buffered_ += bytes;
  if (buffered_ > kBufferBytes) {
    flush();
  }
}

void FileLineWriter::flush() {
  logger_->flush();
  buffered_ = 0;
}

void DecisionLog::record(const DecisionRecord& r) { writer_->write(to_json_line(r)); }

}  // namespace cmdgate
