#pragma once
// SHA-256 (and MD5, when asked) of executed files off the event loop, bounded in size and time,
// cached by FileStamp.
//
// The loop submits an fd of the exact file and carries on; worker threads read it and the result
// comes back on the loop through an eventfd (completion_fd, then drain). A hash the service
// cannot give (too large, too slow, unreadable, overloaded) is an outcome with a message, never
// a wait: the caller decides what "unknown" means for its policy.
//
// A read on a FUSE file whose server never answers cannot be interrupted. The loop notices it
// (expire), answers the token, gives the worker up and starts another, so one bad file costs one
// thread and no decision waits on it. A given-up worker that comes back delivers nothing and
// exits; it owns its share of the state, so it may outlive the service.
//
// What is cached, and for how long:
// - a digest, when the file's stamp was the same after the read as the caller's stamp: for as
//   long as the stamp stays (LRU);
// - TooLarge is decided from the stamp alone, nothing to remember;
// - Unreadable is not remembered: the next exec retries with one bounded read, so an error that
//   goes away (a flaky disk, a file being replaced) does not outlive its cause;
// - TimedOut is not remembered by stamp (touching the file would dodge it, and one slow moment
//   would condemn the file). Instead a filesystem with a stuck read is quarantined while that
//   read is stuck: its files fail at once rather than trapping worker after worker, and the
//   quarantine lifts when the read returns.

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <thread>
#include <unordered_map>
#include <vector>

#include "common/fd.h"
#include "common/result.h"
#include "context/digest_cache.h"
#include "context/file_stamp.h"
#include "context/hash_result.h"
#include "rules/model.h"

namespace cmdgate {

using SteadyTime = std::chrono::steady_clock::time_point;

struct HashSettings {
  size_t workers = 2;
  size_t queue_capacity = 256;  // files waiting for a worker; one more is Busy
  size_t cache_capacity = 8192;
  uint64_t max_bytes = uint64_t{1} << 30;  // a larger file is TooLarge without being read
  // From submit to answer, queueing included, so every token is answered within it.
  std::chrono::milliseconds max_time{10'000};
  // A worker still inside one job this long past the job's deadline is blocked in the kernel
  // (one that is not stops at its next chunk): it is given up and replaced.
  std::chrono::milliseconds stuck_grace{1'000};
  // Given-up workers whose read has not returned. At this many, submits fail at once: every
  // filesystem may be hanging, and threads are not spent on it without bound.
  size_t max_stuck_workers = 8;
};

struct HashCounters {
  uint64_t hashed = 0;      // files read to the end and digested
  uint64_t cache_hits = 0;  // answers from the cache
  uint64_t coalesced = 0;   // submits that joined a read already under way
  uint64_t too_large = 0;   // answers by outcome, one per token
  uint64_t timed_out = 0;
  uint64_t unreadable = 0;
  uint64_t busy = 0;
  uint64_t lost_workers = 0;   // workers given up inside a read
  uint64_t stuck_workers = 0;  // now: given-up workers whose read has not returned
  uint64_t queued = 0;         // now: files waiting for a worker
};

struct HashShared;

// Every member function runs on the loop thread.
class HashService {
 public:
  [[nodiscard]] static Result<std::unique_ptr<HashService>> start(HashSettings settings = {});
  // Never waits for a read: workers inside one are given up.
  ~HashService();
  HashService(const HashService&) = delete;
  HashService& operator=(const HashService&) = delete;

  // A digest without reading, when the stamp is cached with every digest `want` names.
  [[nodiscard]] std::optional<FileDigests> cached(const FileStamp& stamp,
                                                  Digests want = Digests::kSha256);

  // Hashes `file`, whose fstat gave `stamp`. Answers at once when it can without reading (cache
  // hit, too large, busy, stuck filesystem); otherwise returns nullopt and `token` comes back
  // through drain() exactly once, within max_time of this call as long as expire() runs. The
  // service closes `file`, on a worker: closing a FUSE file can block as well.
  [[nodiscard]] std::optional<HashResult> submit(Fd file, const FileStamp& stamp, uint64_t token,
                                                 Digests want = Digests::kSha256);

  // Readable when drain() has results to deliver.
  [[nodiscard]] int completion_fd() const;
  // Delivers the results that are ready. `deliver` may call submit().
  void drain(const std::function<void(HashResult)>& deliver);

  // Answers the tokens whose time is up and gives up stuck workers. Call it at next_deadline(),
  // or from a periodic timer.
  void expire(SteadyTime now);
  [[nodiscard]] std::optional<SteadyTime> next_deadline() const;

  [[nodiscard]] HashCounters counters() const;

 private:
  struct InFlight {
    FileStamp stamp;
    SteadyTime deadline;
    Digests digests;
    std::vector<uint64_t> tokens;  // submits sharing the read
  };

  HashService(const HashSettings& settings, std::shared_ptr<HashShared> shared);
  [[nodiscard]] Status ensure_workers();
  void dispose(Fd file, uint64_t dev);
  // Every token of the job, into ready_; the job is then forgotten.
  void answer(uint64_t job, HashOutcome outcome, const FileDigests& digest,
              const std::string& message);
  [[nodiscard]] HashResult refuse(uint64_t token, HashOutcome outcome, std::string message);
  void count(HashOutcome outcome, uint64_t tokens);

  const HashSettings settings_;
  std::shared_ptr<HashShared> shared_;
  DigestCache cache_;
  // Ordered by job id, which is submit order, which is deadline order.
  std::map<uint64_t, InFlight> jobs_;
  std::unordered_map<FileStamp, uint64_t, FileStampHash> job_of_stamp_;
  std::vector<HashResult> ready_;  // answered on the loop (timeouts), delivered by drain
  std::unordered_map<uint64_t, std::thread> workers_;  // live ones, by worker id
  uint64_t next_job_ = 1;
  uint64_t next_worker_ = 1;
  HashCounters counters_;
};

}  // namespace cmdgate
