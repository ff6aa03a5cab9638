#include "allocation_counter.h"

#include <cstdlib>
#include <new>

namespace cmdgate::test_support {
namespace {
// Thread-local: a gtest or benchmark thread counts its own work, not a helper thread's.
thread_local int t_scopes = 0;
thread_local size_t t_allocations = 0;
}  // namespace

void* counted_malloc(size_t n) noexcept {
  if (t_scopes > 0) {
    ++t_allocations;
  }
  return std::malloc(n == 0 ? 1 : n);
}

void plain_free(void* p) noexcept {
  std::free(p);
}

CountedAllocations::CountedAllocations() : start_(t_allocations) {
  ++t_scopes;
}

CountedAllocations::~CountedAllocations() {
  --t_scopes;
}

size_t CountedAllocations::count() const {
  return t_allocations - start_;
}

}  // namespace cmdgate::test_support

using cmdgate::test_support::counted_malloc;

// GCC inlines the replacement delete below into callers and then sees free() on memory from
// operator new; the pair is consistent (both malloc-based), so the warning is a false positive.
#pragma GCC diagnostic ignored "-Wmismatched-new-delete"

// The whole non-aligned family is replaced, so that every new/delete pair stays matched (under
// ASan too, whose own versions would otherwise fill the gaps).
void* operator new(size_t n) {
  if (void* p = counted_malloc(n)) {
    return p;
  }
  throw std::bad_alloc();
}
void* operator new[](size_t n) {
  return operator new(n);
}
void* operator new(size_t n, const std::nothrow_t& /*tag*/) noexcept {
  return counted_malloc(n);
}
void* operator new[](size_t n, const std::nothrow_t& /*tag*/) noexcept {
  return counted_malloc(n);
}
void operator delete(void* p) noexcept {
  std::free(p);
}
void operator delete[](void* p) noexcept {
  std::free(p);
}
void operator delete(void* p, size_t /*n*/) noexcept {
  std::free(p);
}
void operator delete[](void* p, size_t /*n*/) noexcept {
  std::free(p);
}
void operator delete(void* p, const std::nothrow_t& /*tag*/) noexcept {
  std::free(p);
}
void operator delete[](void* p, const std::nothrow_t& /*tag*/) noexcept {
  std::free(p);
}
