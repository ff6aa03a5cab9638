#pragma once
// The kernel's record of every process it stopped for the daemon (pinned across restarts).

#include <cstdint>
#include <optional>
#include <vector>

#include "kernel/parked_store.h"

namespace cmdgate::probe {

class ParkedMap final : public ParkedStore {
 public:
  explicit ParkedMap(int fd) : fd_(fd) {}

  [[nodiscard]] std::optional<ParkedEntry> lookup(uint32_t tgid) const override;
  bool erase(uint32_t tgid, uint64_t exec_id) override;
  [[nodiscard]] std::vector<ParkedEntry> list() const override;
  // Takes over a process another generation of programs parked (probe/pin_dir.h sweep_foreign),
  // as undelivered so the pipeline recovers it from /proc at once. False if already tracked.
  bool adopt(uint32_t tgid, uint64_t now_ns);

 private:
  int fd_;
};

}  // namespace cmdgate::probe
