#pragma once
// Work that may block for long, a PAM conversation or a read from a FUSE file, on threads of its
// own: the event loop decides every exec on the host and never waits for it. A thread hands
// results back as callbacks that run on the loop (drain(), when fd() is readable).
//
// A thread stuck in the kernel or in a PAM module is not waited for. It owns its share of the
// state, so it may outlive the OffLoop; what it posts after that is dropped, never run, so work
// and its callbacks may refer to the owner only from callbacks. Stuck threads still count
// against max_threads until they return: a host whose reads hang gets refusals, not threads
// without bound.

#include <chrono>
#include <cstddef>
#include <functional>
#include <memory>

#include "common/result.h"

namespace cmdgate {

struct OffLoopShared;

class OffLoop {
 public:
  // From a thread: run `fn` on the loop.
  using Post = std::function<void(std::function<void()> fn)>;
  using Work = std::function<void(const Post& post)>;

  [[nodiscard]] static Result<std::unique_ptr<OffLoop>> create(size_t max_threads);
  // Waits a short while for threads that are about to finish (cancelled conversations), none
  // for the others.
  ~OffLoop();
  OffLoop(const OffLoop&) = delete;
  OffLoop& operator=(const OffLoop&) = delete;

  // Runs work on a new thread; false, running nothing, when max_threads still run.
  [[nodiscard]] bool run(Work work);
  [[nodiscard]] int fd() const;
  // Runs the callbacks posted so far, on the loop.
  void drain();
  [[nodiscard]] size_t running() const;

 private:
  explicit OffLoop(std::shared_ptr<OffLoopShared> shared, size_t max_threads)
      : shared_(std::move(shared)), max_threads_(max_threads) {}
  std::shared_ptr<OffLoopShared> shared_;
  size_t max_threads_;
};

}  // namespace cmdgate
