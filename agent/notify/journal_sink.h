#pragma once
// Requests and decisions that matter to people (denials, asks, escapes, approvals; never the
// allowed and audited stream) go to the systemd journal with a priority and structured fields,
// so `journalctl -p warning` shows denials and `journalctl CMDGATE_RULE=x` one rule's work.
// sd_journal_send blocks when journald is slow: the daemon hands entries to a thread of their
// own through a bounded queue, and drops (and counts) what does not fit.

#include <condition_variable>
#include <cstdint>
#include <deque>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "pipeline/observer.h"

namespace cmdgate {

class JournalSink final : public PipelineObserver {
 public:
  JournalSink();
  ~JournalSink() override;
  JournalSink(const JournalSink&) = delete;
  JournalSink& operator=(const JournalSink&) = delete;

  void on_parked(const PendingRequest&) override {}
  void on_closed(const PendingRequest&, Outcome, DecidedBy, const ApproverInfo*) override {}
  void on_decision(const DecisionRecord& record) override;
  [[nodiscard]] bool approvers_listening() const override { return false; }

  // The fields of a record's journal entry, or none when it is not journaled.
  [[nodiscard]] static std::vector<std::string> fields(const DecisionRecord& record);

  [[nodiscard]] uint64_t dropped() const;

 private:
  void run();

  static constexpr size_t kQueue = 1024;
  mutable std::mutex mutex_;
  std::condition_variable wake_;
  std::deque<std::vector<std::string>> queue_;
  bool stopping_ = false;
  uint64_t dropped_ = 0;
  std::thread thread_;
};

}  // namespace cmdgate
