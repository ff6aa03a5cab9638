#include "probe/load_heap.h"

#include <malloc.h>
#include <sys/mman.h>
#include <unistd.h>

#include <cstdint>

namespace cmdgate::probe {
namespace {

constexpr int kKeepWhileLoading = 256 << 20;  // above any buffer a BTF parse allocates
constexpr int kGrowBy = 64 << 20;             // what loading the objects allocates, and more
constexpr int kDefaultThreshold = 128 << 10;  // glibc's initial M_MMAP_THRESHOLD, M_TRIM_THRESHOLD
constexpr int kDefaultTopPad = 128 << 10;     // and M_TOP_PAD
constexpr uintptr_t kHugePage = 2u << 20;

char* heap_end() { return static_cast<char*>(::sbrk(0)); }

}  // namespace

LoadHeap::LoadHeap() {
  ::mallopt(M_MMAP_THRESHOLD, kKeepWhileLoading);
  ::mallopt(M_TRIM_THRESHOLD, kKeepWhileLoading);
  ::mallopt(M_TOP_PAD, kGrowBy);
  char* before = heap_end();
  void* block = ::malloc(1 << 20);  // past the heap's free top: it grows by kGrowBy at once
  __asm__ volatile("" : : "r"(block) : "memory");  // the compiler may not drop the pair
  char* after = heap_end();
  const auto begin = (reinterpret_cast<uintptr_t>(before) + kHugePage - 1) & ~(kHugePage - 1);
  if (reinterpret_cast<uintptr_t>(after) > begin) {
    huge_begin_ = reinterpret_cast<char*>(begin);
    huge_length_ = reinterpret_cast<uintptr_t>(after) - begin;
    if (::madvise(huge_begin_, huge_length_, MADV_HUGEPAGE) != 0) {
      huge_begin_ = nullptr;  // no transparent huge pages here: the faults stay small
      huge_length_ = 0;
    }
  }
  ::free(block);
}

LoadHeap::~LoadHeap() {
  ::mallopt(M_MMAP_THRESHOLD, kDefaultThreshold);
  ::mallopt(M_TRIM_THRESHOLD, kDefaultThreshold);
  ::mallopt(M_TOP_PAD, kDefaultTopPad);
  ::malloc_trim(0);
  if (huge_begin_ != nullptr) {
    // What stays of that heap holds the daemon's long-lived data: small pages, for a small RSS.
    char* end = heap_end();
    if (end > huge_begin_) {
      const auto length = static_cast<size_t>(end - huge_begin_);
      (void)::madvise(huge_begin_, length < huge_length_ ? length : huge_length_,
                      MADV_NOHUGEPAGE);
    }
  }
}

}  // namespace cmdgate::probe
