#pragma once
// libbpf parses the kernel's BTF (megabytes, over 10^5 types) once for every object it loads,
// each time into fresh memory that it frees afterwards. On guests where a page fault is costly
// (a hypervisor's page tables), faulting those megabytes in is most of an object's load time.
// While the daemon's objects load, this thread's heap grows in one step into memory backed by
// transparent huge pages where the kernel allows them (a fault per 2 MiB, not per 4 KiB), large
// blocks come from that heap and freed memory stays there, so later parses reuse the pages of
// the first. Afterwards the usual thresholds return, the heap is trimmed and no longer asks for
// huge pages.

#include <cstddef>

namespace cmdgate::probe {

class LoadHeap {
 public:
  LoadHeap();
  ~LoadHeap();
  LoadHeap(const LoadHeap&) = delete;
  LoadHeap& operator=(const LoadHeap&) = delete;

 private:
  char* huge_begin_ = nullptr;  // the part of the heap asked to use huge pages
  size_t huge_length_ = 0;
};

}  // namespace cmdgate::probe
