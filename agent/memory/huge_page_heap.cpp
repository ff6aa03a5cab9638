#include "memory/huge_page_heap.h"

#include <malloc.h>
#include <sys/mman.h>

#include <cstdint>
#include <cstdlib>
#include <mutex>

namespace cmdgate {
namespace {

// Above any block and any buffer a BTF parse allocates: such requests stay in the arena instead
// of getting mappings of their own, and freeing them does not hand the block back.
constexpr int kKeepWhileActive = 256 << 20;
constexpr int kDefaultThreshold = 128 << 10;  // glibc's initial M_MMAP_THRESHOLD, M_TRIM_THRESHOLD
constexpr uintptr_t kHugePage = 2u << 20;
// glibc trims the free top of a thread's arena, which malloc_trim leaves, when a free this large
// reaches that arena.
constexpr size_t kFreeThatTrims = 64 << 10;

// glibc's thresholds are the process's: the first heap raises them, the last restores them.
std::mutex active_mutex;
int active = 0;

}  // namespace

HugePageHeap::HugePageHeap(size_t block_bytes) {
  {
    const std::lock_guard lock(active_mutex);
    if (active++ == 0) {
      ::mallopt(M_MMAP_THRESHOLD, kKeepWhileActive);
      ::mallopt(M_TRIM_THRESHOLD, kKeepWhileActive);
    }
  }
  // The arena grows to hold the block without touching it; freed, the block is its free top.
  void* block = ::malloc(block_bytes);
  if (block == nullptr) {
    return;  // then the faults stay small
  }
  const auto start = reinterpret_cast<uintptr_t>(block);
  const uintptr_t begin = (start + kHugePage - 1) & ~(kHugePage - 1);
  const uintptr_t end = (start + block_bytes) & ~(kHugePage - 1);
  if (end > begin &&
      ::madvise(reinterpret_cast<void*>(begin), end - begin, MADV_HUGEPAGE) == 0) {
    huge_begin_ = reinterpret_cast<char*>(begin);
    huge_length_ = end - begin;
  }
  ::free(block);
}

HugePageHeap::~HugePageHeap() {
  bool last = false;
  {
    const std::lock_guard lock(active_mutex);
    last = --active == 0;
    if (last) {
      ::mallopt(M_MMAP_THRESHOLD, kDefaultThreshold);
      ::mallopt(M_TRIM_THRESHOLD, kDefaultThreshold);
    }
  }
  if (huge_begin_ != nullptr) {
    // The arena may have shrunk below the block meanwhile; then there is nothing left to advise.
    (void)::madvise(huge_begin_, huge_length_, MADV_NOHUGEPAGE);
  }
  if (last) {
    ::malloc_trim(0);  // free memory inside huge pages goes back too: the kernel splits them
  }
  void* trims = ::malloc(kFreeThatTrims);
  __asm__ volatile("" : : "r"(trims) : "memory");  // the compiler may not drop the pair
  ::free(trims);
}

}  // namespace cmdgate
