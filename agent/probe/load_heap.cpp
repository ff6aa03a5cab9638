#include "probe/load_heap.h"

#include <malloc.h>

namespace cmdgate::probe {
namespace {

constexpr int kKeepWhileLoading = 256 << 20;  // above any buffer a BTF parse allocates
constexpr int kDefaultThreshold = 128 << 10;  // glibc's initial M_MMAP_THRESHOLD and M_TRIM_THRESHOLD

}  // namespace

LoadHeap::LoadHeap() {
  ::mallopt(M_MMAP_THRESHOLD, kKeepWhileLoading);
  ::mallopt(M_TRIM_THRESHOLD, kKeepWhileLoading);
}

LoadHeap::~LoadHeap() {
  ::mallopt(M_MMAP_THRESHOLD, kDefaultThreshold);
  ::mallopt(M_TRIM_THRESHOLD, kDefaultThreshold);
  ::malloc_trim(0);
}

}  // namespace cmdgate::probe
