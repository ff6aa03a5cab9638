#pragma once
// Seam over the kernel's parked map, so the pipeline can be tested without BPF.

#include <cstdint>
#include <optional>
#include <vector>

namespace cmdgate {

struct ParkedEntry {
  uint32_t tgid = 0;
  uint64_t exec_id = 0;
  uint64_t parked_ns = 0;  // CLOCK_MONOTONIC
  bool undelivered = false;  // its record never reached the ring buffer
};

class ParkedStore {
 public:
  virtual ~ParkedStore() = default;
  [[nodiscard]] virtual std::optional<ParkedEntry> lookup(uint32_t tgid) const = 0;
  // Removes the entry only if it still belongs to that exec.
  virtual bool erase(uint32_t tgid, uint64_t exec_id) = 0;
  [[nodiscard]] virtual std::vector<ParkedEntry> list() const = 0;
};

}  // namespace cmdgate
