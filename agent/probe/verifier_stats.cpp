#include "probe/verifier_stats.h"

#include <bpf/libbpf.h>
#include <spdlog/spdlog.h>

#include <cstdio>
#include <cstring>

namespace cmdgate::probe {
namespace {

constexpr __u32 kLogStats = 4;  // BPF_LOG_STATS: the summary lines only
constexpr size_t kLogBytes = 4096;

// The summary's value for `key`, e.g. "verification time 15873 usec": -1 when absent.
long long stat_after(const char* log, const char* key) {
  const char* at = std::strstr(log, key);
  long long value = -1;
  if (at == nullptr || std::sscanf(at + std::strlen(key), "%lld", &value) != 1) {
    return -1;
  }
  return value;
}

}  // namespace

VerifierStats::VerifierStats(bpf_object* obj) {
  if (!spdlog::should_log(spdlog::level::debug)) {
    return;
  }
  bpf_program* prog = nullptr;
  bpf_object__for_each_program(prog, obj) {
    if (bpf_program__autoload(prog)) {
      programs_.push_back({bpf_program__name(prog), std::vector<char>(kLogBytes, '\0')});
    }
  }
  // Buffers are set once the vector no longer moves.
  for (Program& p : programs_) {
    bpf_program* named = bpf_object__find_program_by_name(obj, p.name.c_str());
    if (named == nullptr || bpf_program__set_log_buf(named, p.log.data(), p.log.size()) != 0 ||
        bpf_program__set_log_level(named, kLogStats) != 0) {
      p.log.clear();
    }
  }
}

void VerifierStats::log() const {
  for (const Program& p : programs_) {
    if (p.log.empty()) {
      continue;
    }
    const long long usec = stat_after(p.log.data(), "verification time ");
    const long long insns = stat_after(p.log.data(), "processed ");
    if (usec < 0 || insns < 0) {
      spdlog::debug("BPF program {}: the verifier gave no statistics", p.name);
      continue;
    }
    spdlog::debug("BPF program {} verified in {:.1f} ms ({} instructions walked)", p.name,
                  static_cast<double>(usec) / 1000.0, insns);
  }
}

}  // namespace cmdgate::probe
