#pragma once
// Several observers of one pipeline (the approval socket, notify programs, the journal), in the
// order added.

#include <vector>

#include "pipeline/observer.h"

namespace cmdgate {

class ObserverList final : public PipelineObserver {
 public:
  void add(PipelineObserver* o) { observers_.push_back(o); }
  void on_parked(const PendingRequest& r) override {
    for (auto* o : observers_) {
      o->on_parked(r);
    }
  }
  void on_closed(const PendingRequest& r, Outcome outcome, DecidedBy by,
                 const ApproverInfo* approver) override {
    for (auto* o : observers_) {
      o->on_closed(r, outcome, by, approver);
    }
  }
  void on_decision(const DecisionRecord& record) override {
    for (auto* o : observers_) {
      o->on_decision(record);
    }
  }
  [[nodiscard]] bool approvers_listening() const override {
    for (auto* o : observers_) {
      if (o->approvers_listening()) {
        return true;
      }
    }
    return false;
  }

 private:
  std::vector<PipelineObserver*> observers_;
};

}  // namespace cmdgate
