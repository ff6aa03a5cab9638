#pragma once
// Counts the heap allocations a thread makes. The binary that links this library gets a global
// operator new (every non-aligned form) that counts for threads inside a CountedAllocations
// scope and is plain malloc for everything else. Libraries that allocate with malloc (Hyperscan)
// can be routed through counted_malloc with their own allocator hook.

#include <cstddef>

namespace cmdgate::test_support {

[[nodiscard]] void* counted_malloc(size_t n) noexcept;
void plain_free(void* p) noexcept;

// Allocations made by this thread between construction and destruction (or count()).
class CountedAllocations {
 public:
  CountedAllocations();
  ~CountedAllocations();
  CountedAllocations(const CountedAllocations&) = delete;
  CountedAllocations& operator=(const CountedAllocations&) = delete;

  [[nodiscard]] size_t count() const;

 private:
  size_t start_;
};

}  // namespace cmdgate::test_support
