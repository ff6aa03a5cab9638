#include "notify/journal_sink.h"

#include <pthread.h>
#include <signal.h>
#include <sys/uio.h>
#include <syslog.h>
#include <systemd/sd-journal.h>

#include <fmt/format.h>

#include "common/display_text.h"
#include "log/decision_record.h"

namespace cmdgate {
namespace {

int priority_of(Outcome outcome, DecidedBy by) {
  if (by == DecidedBy::kEscape || refused(outcome)) {
    return LOG_WARNING;
  }
  return held_or_would_be(outcome) ? LOG_NOTICE : LOG_INFO;
}

// Outcomes a person may need to know of; allowed and audited execs stay in the decision log.
bool journaled(const DecisionRecord& r) {
  return refused(r.outcome) || held_or_would_be(r.outcome) ||
         r.decided_by == DecidedBy::kApprover || r.decided_by == DecidedBy::kGrant ||
         r.decided_by == DecidedBy::kEscape;
}

}  // namespace

JournalSink::JournalSink() : thread_([this] { run(); }) {}

JournalSink::~JournalSink() {
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
  }
  wake_.notify_all();
  thread_.join();
}

std::vector<std::string> JournalSink::fields(const DecisionRecord& r) {
  if (!journaled(r)) {
    return {};
  }
  const ExecEvent& e = *r.event;
  const rules::Rule* rule = r.judgement != nullptr ? r.judgement->decision.rule : nullptr;
  std::string command;
  if (r.input != nullptr) {
    command = display_words(r.input->argv);
  } else {
    command = display_words(e.argv);
  }
  std::vector<std::string> f;
  f.push_back(fmt::format("MESSAGE=cmdgate: {} {} ({}{}{})", to_string(r.outcome),
                          display_text(command),
                          rule != nullptr ? "rule " + display_text(rule->id) : "default",
                          r.request_id ? fmt::format(", request {}", *r.request_id) : "",
                          fmt::format(", pid {}", e.tgid)));
  f.push_back(fmt::format("PRIORITY={}", priority_of(r.outcome, r.decided_by)));
  f.push_back("SYSLOG_IDENTIFIER=cmdgated");
  f.push_back(fmt::format("CMDGATE_OUTCOME={}", to_string(r.outcome)));
  f.push_back(fmt::format("CMDGATE_DECIDED_BY={}", to_string(r.decided_by)));
  if (rule != nullptr) {
    f.push_back("CMDGATE_RULE=" + rule->id);
  }
  if (r.request_id) {
    f.push_back(fmt::format("CMDGATE_REQUEST={}", *r.request_id));
  }
  f.push_back(fmt::format("CMDGATE_PID={}", e.tgid));
  f.push_back(fmt::format("CMDGATE_UID={}", e.uid));
  f.push_back("CMDGATE_EXE=" + display_text(e.path));
  f.push_back("CMDGATE_COMMAND=" + command);
  if (!r.told.empty()) {
    f.push_back("CMDGATE_TOLD=" + r.told);
  }
  return f;
}

void JournalSink::on_decision(const DecisionRecord& record) {
  std::vector<std::string> f = fields(record);
  if (f.empty()) {
    return;
  }
  {
    std::lock_guard lock(mutex_);
    if (queue_.size() >= kQueue) {
      ++dropped_;
      return;
    }
    queue_.push_back(std::move(f));
  }
  wake_.notify_one();
}

uint64_t JournalSink::dropped() const {
  std::lock_guard lock(mutex_);
  return dropped_;
}

void JournalSink::run() {
  // Signals are the event loop's (a signalfd): none may land on this thread.
  sigset_t all;
  sigfillset(&all);
  pthread_sigmask(SIG_BLOCK, &all, nullptr);
  std::unique_lock lock(mutex_);
  for (;;) {
    wake_.wait(lock, [this] { return stopping_ || !queue_.empty(); });
    if (queue_.empty()) {
      return;  // stopping, everything sent
    }
    std::vector<std::string> entry = std::move(queue_.front());
    queue_.pop_front();
    lock.unlock();
    std::vector<iovec> iov;
    for (auto& field : entry) {
      iov.push_back({field.data(), field.size()});
    }
    sd_journal_sendv(iov.data(), static_cast<int>(iov.size()));
    lock.lock();
  }
}

}  // namespace cmdgate
