#pragma once
// What the kernel's verifier says about each program it loads (BPF_LOG_STATS): how long it took
// and how many instructions it walked, logged at debug level. Start-up time is mostly loading and
// verifying, and this is where a program that grew costly shows first.
//
// Asked only when debug logging is on: a log buffer of our own replaces libbpf's retry with the
// full verifier log when a load fails (the kernel's error message still comes through).

#include <string>
#include <vector>

struct bpf_object;

namespace cmdgate::probe {

class VerifierStats {
 public:
  // Before loading: asks for the statistics of every program of obj that will be loaded.
  explicit VerifierStats(bpf_object* obj);
  VerifierStats(const VerifierStats&) = delete;
  VerifierStats& operator=(const VerifierStats&) = delete;

  // After loading: one debug line per program.
  void log() const;

 private:
  struct Program {
    std::string name;
    std::vector<char> log;
  };
  std::vector<Program> programs_;
};

}  // namespace cmdgate::probe
