#pragma once
// libbpf parses the kernel's BTF (megabytes, over 10^5 types) once for every object it loads,
// each time into fresh memory that it frees afterwards. On guests where a page fault is costly,
// faulting those megabytes in again is most of an object's load time. While the daemon's objects
// load, large blocks come from the heap and freed memory stays there, so each parse after the
// first reuses the pages of the one before; afterwards the usual thresholds return and what is
// free goes back to the system.

namespace cmdgate::probe {

class LoadHeap {
 public:
  LoadHeap();
  ~LoadHeap();
  LoadHeap(const LoadHeap&) = delete;
  LoadHeap& operator=(const LoadHeap&) = delete;
};

}  // namespace cmdgate::probe
