#pragma once
// One immutable value, replaced by a single atomic pointer swap and read without locks or
// allocation: epoch-based reclamation (EBR). A reader announces the epoch it read in, in its own
// cache-line slot; the writer frees a replaced value once no reader announced an epoch at or
// before the one it was retired in. std::atomic<std::shared_ptr> would do the same job with a
// lock inside libstdc++ (it takes a spinlock per load), which readers on the exec path must not.
//
// Readers: a fixed number of slots, each used by one thread at a time. Writer: one thread.

#include <array>
#include <atomic>
#include <cassert>
#include <cstdint>
#include <memory>
#include <new>
#include <vector>

namespace cmdgate {

template <typename T, size_t kMaxReaders = 16>
class SnapshotCell {
 public:
  class Reader {
   public:
    Reader(const Reader&) = delete;
    Reader& operator=(const Reader&) = delete;
    Reader(Reader&& o) noexcept : slot_(o.slot_), value_(o.value_) { o.slot_ = nullptr; }
    ~Reader() {
      if (slot_ != nullptr) {
        slot_->store(kQuiescent, std::memory_order_release);
      }
    }
    [[nodiscard]] const T* get() const { return value_; }
    const T* operator->() const { return value_; }
    const T& operator*() const { return *value_; }
    explicit operator bool() const { return value_ != nullptr; }

   private:
    friend class SnapshotCell;
    Reader(std::atomic<uint64_t>* slot, const T* value) : slot_(slot), value_(value) {}
    std::atomic<uint64_t>* slot_;
    const T* value_;
  };

  SnapshotCell() = default;
  SnapshotCell(const SnapshotCell&) = delete;
  SnapshotCell& operator=(const SnapshotCell&) = delete;
  ~SnapshotCell() {
    delete current_.load(std::memory_order_acquire);
    for (auto& r : retired_) {
      delete r.value;
    }
  }

  // The current value, pinned until the Reader goes away. reader_slot < kMaxReaders, and no two
  // threads use the same slot at once. Wait-free.
  [[nodiscard]] Reader read(size_t reader_slot) const {
    assert(reader_slot < kMaxReaders);
    std::atomic<uint64_t>& slot = slots_[reader_slot].epoch;
    // seq_cst on both: the announcement must be ordered before the pointer load, against the
    // writer's seq_cst exchange then epoch increment.
    slot.store(epoch_.load(std::memory_order_seq_cst), std::memory_order_seq_cst);
    return Reader(&slot, current_.load(std::memory_order_seq_cst));
  }

  // Makes value the current one; the previous one is freed as soon as no reader can hold it.
  void publish(std::unique_ptr<T> value) {
    const T* old = current_.exchange(value.release(), std::memory_order_seq_cst);
    const uint64_t retired_in = epoch_.fetch_add(1, std::memory_order_seq_cst);
    if (old != nullptr) {
      retired_.push_back({old, retired_in});
    }
    reclaim();
  }

  // Frees what no reader can hold any more; publish() calls it, idle writers may too.
  void reclaim() {
    uint64_t oldest = UINT64_MAX;
    for (const auto& s : slots_) {
      const uint64_t e = s.epoch.load(std::memory_order_seq_cst);
      if (e != kQuiescent && e < oldest) {
        oldest = e;
      }
    }
    std::erase_if(retired_, [&](const Retired& r) {
      if (r.epoch < oldest) {
        delete r.value;
        return true;
      }
      return false;
    });
  }

  [[nodiscard]] size_t retired() const { return retired_.size(); }

 private:
  static constexpr uint64_t kQuiescent = UINT64_MAX;

  struct alignas(64) Slot {  // one cache line each: readers never share one
    std::atomic<uint64_t> epoch{kQuiescent};
  };
  struct Retired {
    const T* value;
    uint64_t epoch;
  };

  alignas(64) std::atomic<const T*> current_{nullptr};
  alignas(64) std::atomic<uint64_t> epoch_{0};
  mutable std::array<Slot, kMaxReaders> slots_;
  std::vector<Retired> retired_;  // writer only
};

}  // namespace cmdgate
