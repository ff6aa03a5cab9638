#pragma once
// Starting the daemon allocates tens of megabytes that live briefly: libbpf parses the kernel's
// BTF (megabytes, over 10^5 types) once for every object it loads, and the first policy's rule
// files become a TOML document of a few hundred bytes a key before they become rules. Fresh
// memory costs a page fault per 4 KiB on first touch, and on guests where a fault is costly (a
// hypervisor's page tables) those faults are most of what both take.
//
// While a HugePageHeap lives, the thread that made it allocates from a block of its own malloc
// arena that is backed by transparent huge pages where the kernel allows them (a fault per 2 MiB),
// and what it frees stays in that block, so a later parse reuses the pages of an earlier one.
// When the last HugePageHeap of the process ends, glibc's usual thresholds return, every arena is
// trimmed and the blocks no longer ask for huge pages: what stays holds the daemon's long-lived
// data, in small pages, for a small RSS.

#include <cstddef>

namespace cmdgate {

class HugePageHeap {
 public:
  // block_bytes: about what the thread allocates at its peak; past it the faults stay small. On
  // any thread but the main one, under 64 MiB: the most one heap of its arena holds.
  explicit HugePageHeap(size_t block_bytes);
  ~HugePageHeap();
  HugePageHeap(const HugePageHeap&) = delete;
  HugePageHeap& operator=(const HugePageHeap&) = delete;

  // Whether the block asked for huge pages (the kernel may still give small ones).
  [[nodiscard]] bool advised() const { return huge_begin_ != nullptr; }

 private:
  char* huge_begin_ = nullptr;  // the part of the block asked to use huge pages
  size_t huge_length_ = 0;
};

}  // namespace cmdgate
