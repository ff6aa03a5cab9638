#pragma once
// Telling the process whose exec was held or denied why, on its own standard error: an AI agent's
// tool runner reads the command's stderr, and a policy decision must not look like a crash.
//
// Writes never block the daemon: a pipe is written through a descriptor of the daemon's own in
// non-blocking mode (a full pipe loses the line, not the decision), a terminal likewise; a socket
// with MSG_DONTWAIT; a regular file only on local storage. Nothing is written where the process
// itself could not write: its descriptor 2 must be open for writing.

#include <cstdint>
#include <string_view>

#include "context/process_paths.h"

namespace cmdgate {

class CallerChannel {
 public:
  virtual ~CallerChannel() = default;
  // One line (the newline is added) to the process's stderr; false when it was not delivered.
  virtual bool tell(uint32_t tgid, std::string_view line) = 0;
};

struct CallerChannelStats {
  uint64_t told = 0;
  uint64_t lost = 0;  // would have blocked (full pipe), or the write failed
  uint64_t no_stderr = 0;  // closed, read-only, or of a kind that is not written to
};

class StderrChannel final : public CallerChannel {
 public:
  explicit StderrChannel(const ProcessPaths& paths) : paths_(paths) {}
  bool tell(uint32_t tgid, std::string_view line) override;
  [[nodiscard]] const CallerChannelStats& stats() const { return stats_; }

 private:
  const ProcessPaths& paths_;  // which file systems may be written without waiting
  CallerChannelStats stats_;
};

}  // namespace cmdgate
