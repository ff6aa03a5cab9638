// glibc's allocator as the daemon runs it: the sanitizer builds replace it and leave this file out.
#include "memory/huge_page_heap.h"

#include <gtest/gtest.h>
#include <malloc.h>

#include <cstdlib>
#include <cstring>
#include <fstream>
#include <future>
#include <string>
#include <thread>
#include <vector>

namespace cmdgate {
namespace {

// A "Key:   N kB" line of a /proc file, in kB.
long proc_kb(const std::string& file, const std::string& key) {
  std::ifstream in(file);
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind(key + ":", 0) == 0) {
      return std::strtol(line.c_str() + key.size() + 1, nullptr, 10);
    }
  }
  ADD_FAILURE() << "no " << key << " in " << file;
  return -1;
}
// From the page tables: VmRSS in /proc/self/status can lag a release just made.
long anon_huge_kb() { return proc_kb("/proc/self/smaps_rollup", "AnonHugePages"); }
long rss_kb() { return proc_kb("/proc/self/smaps_rollup", "Rss"); }

bool kernel_gives_huge_pages() {
  std::ifstream in("/sys/kernel/mm/transparent_hugepage/enabled");
  std::string modes;
  std::getline(in, modes);
  return !modes.empty() && modes.find("[never]") == std::string::npos;
}

// What a parse does: many small blocks, each written.
std::vector<void*> allocate_small_blocks(size_t total) {
  constexpr size_t kBlock = 256;
  std::vector<void*> blocks;
  blocks.reserve(total / kBlock);
  for (size_t i = 0; i < total / kBlock; ++i) {
    void* p = std::malloc(kBlock);
    std::memset(p, 1, kBlock);
    blocks.push_back(p);
  }
  return blocks;
}

void free_all(std::vector<void*>& blocks) {
  for (void* p : blocks) {
    std::free(p);
  }
  blocks.clear();
  blocks.shrink_to_fit();
}

constexpr size_t kMiB = 1 << 20;

TEST(HugePageHeap, AThreadsSmallBlocksLandInHugePagesAndGoBackWhenItEnds) {
  if (!kernel_gives_huge_pages()) {
    GTEST_SKIP() << "transparent huge pages are off on this kernel";
  }
  // A thread of its own, as the first policy's compile has: its own arena, fresh memory.
  std::async(std::launch::async, [] {
    const long huge_before = anon_huge_kb();
    const long rss_before = rss_kb();
    std::vector<void*> blocks;
    {
      const HugePageHeap heap(32 * kMiB);
      ASSERT_TRUE(heap.advised());
      blocks = allocate_small_blocks(16 * kMiB);
      EXPECT_GE(anon_huge_kb() - huge_before, 8 * 1024) << "16 MiB written, in small pages";
      free_all(blocks);
    }
    EXPECT_LE(rss_kb() - rss_before, 4 * 1024) << "the freed 16 MiB stayed resident";
  }).get();
}

// The control: the same blocks without a HugePageHeap fault in small pages, where the kernel
// gives huge pages only to memory that asks for them.
TEST(HugePageHeap, WithoutOneTheSameBlocksStayInSmallPages) {
  std::ifstream in("/sys/kernel/mm/transparent_hugepage/enabled");
  std::string modes;
  std::getline(in, modes);
  if (modes.find("[madvise]") == std::string::npos) {
    GTEST_SKIP() << "transparent huge pages are not on request here: " << modes;
  }
  std::async(std::launch::async, [] {
    const long huge_before = anon_huge_kb();
    std::vector<void*> blocks = allocate_small_blocks(16 * kMiB);
    EXPECT_LT(anon_huge_kb() - huge_before, 2 * 1024);
    free_all(blocks);
  }).get();
}

// glibc's thresholds are the process's: they stay raised until the last heap ends, whichever
// thread made it and in whichever order they end. A 1 MiB block is mapped on its own under the
// usual thresholds and comes from the arena while they are raised.
TEST(HugePageHeap, LargeBlocksStayInTheArenaUntilTheLastHeapEnds) {
  const auto mapped_after_a_large_block = [] {
    void* p = std::malloc(kMiB);
    const size_t mapped = mallinfo2().hblks;
    EXPECT_GE(malloc_usable_size(p), kMiB);  // uses the block: the pair may not be left out
    std::free(p);
    return mapped;
  };
  const size_t mapped_before = mallinfo2().hblks;
  auto first = std::make_unique<HugePageHeap>(4 * kMiB);
  std::promise<void> first_ended;
  std::promise<void> second_made;
  std::thread second([&] {
    const HugePageHeap heap(4 * kMiB);
    second_made.set_value();
    first_ended.get_future().wait();
  });
  second_made.get_future().wait();
  first.reset();
  EXPECT_EQ(mapped_after_a_large_block(), mapped_before) << "the other thread's heap still lives";
  first_ended.set_value();
  second.join();
  EXPECT_EQ(mapped_after_a_large_block(), mapped_before + 1) << "no heap lives";
}

}  // namespace
}  // namespace cmdgate
