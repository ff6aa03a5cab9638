#pragma once
// A kernel port that enforces nothing: policies are compiled, published and reported like the
// real daemon's, but no exec is seen. For running many agents on one host (fleet tests) and for
// trying rule bundles without root.

#include <string>

#include "kernel/kernel_port.h"

namespace cmdgate {

class EvaluationOnlyPort : public KernelPort {
 public:
  Status publish(const rules::KernelPolicy&, uint32_t generation) override {
    published_generation_ = generation;
    return {};
  }
  Status start(RecordHandler) override { return {}; }
  void leaving() override {}
  int record_fd() const override { return -1; }
  void drain() override {}
  void heartbeat(uint64_t) override {}
  Learner& learner() override { return learner_; }
  ParkedStore& parked() override { return parked_; }
  ProcessControl& control() override { return control_; }
  std::optional<Ancestry> ancestry(int) const override { return std::nullopt; }
  std::vector<std::pair<std::string, uint64_t>> counters() const override { return {}; }
  std::string enforcement() const override { return "none (evaluation only)"; }

  [[nodiscard]] uint32_t published_generation() const { return published_generation_; }

 private:
  class NoLearner final : public Learner {
   public:
    void learn(const rules::FileId&, int64_t, uint32_t, rules::InodeVerdict, uint32_t) override {}
  };
  class NoParked final : public ParkedStore {
   public:
    std::optional<ParkedEntry> lookup(uint32_t) const override { return std::nullopt; }
    bool erase(uint32_t, uint64_t) override { return false; }
    std::vector<ParkedEntry> list() const override { return {}; }
  };
  class NoControl final : public ProcessControl {
   public:
    Result<ProcessHandle> pin(uint32_t tgid, uint64_t) override {
      return Error::format("evaluation-only agent: process {} is not parked here", tgid);
    }
    Status resume(ProcessHandle&) override { return {}; }
    Status kill(ProcessHandle&) override { return {}; }
  };

  NoLearner learner_;
  NoParked parked_;
  NoControl control_;
  uint32_t published_generation_ = 0;
};

}  // namespace cmdgate
