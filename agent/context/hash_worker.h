#pragma once
// HashService internals: the state its loop and its workers share, and the worker itself.
// Everything a worker touches is in HashShared, owned by shared_ptr, so that a worker given up
// inside a read that never returns can outlive the service without touching freed memory.

#include <condition_variable>
#include <cstdint>
#include <deque>
#include <memory>
#include <mutex>
#include <string>
#include <unordered_map>
#include <vector>

#include "common/fd.h"
#include "context/hash_service.h"

namespace cmdgate {

struct HashJob {
  uint64_t id = 0;
  Fd file;
  FileStamp stamp;
  SteadyTime deadline;
  Digests digests = Digests::kSha256;
};

// A read that ended, for the loop.
struct HashDone {
  uint64_t job = 0;
  FileStamp stamp;  // the digest may be cached under it even when the answer went out late
  HashOutcome outcome = HashOutcome::kOk;
  FileDigests digest{};
  std::string message;
};

// An fd the service no longer needs; closed by a worker because closing can block.
struct HashDisposal {
  Fd file;
  uint64_t dev = 0;
};

struct HashWorkerSlot {
  bool busy = false;  // inside a read or a close, until `deadline`
  SteadyTime deadline;
  uint64_t dev = 0;
  bool lost = false;  // given up by the loop: deliver nothing, exit on return
};

struct HashShared {
  HashShared(const HashSettings& s, Fd completion) : settings(s), done_fd(std::move(completion)) {}

  const HashSettings settings;
  const Fd done_fd;  // eventfd: the loop has something to drain

  std::mutex mutex;
  std::condition_variable wake;
  // Guarded by mutex:
  std::deque<HashJob> queue;
  std::deque<HashDisposal> to_close;
  std::vector<HashDone> done;
  std::unordered_map<uint64_t, HashWorkerSlot> workers;  // by worker id, live and lost
  std::unordered_map<uint64_t, size_t> stuck_devs;       // lost workers by device
  size_t stuck = 0;                                      // lost workers not yet returned
  bool stopping = false;

  void signal() const;
};

// The name every hashing thread carries (top -H, /proc/PID/task/TID/comm).
inline constexpr const char* kHashWorkerThreadName = "cmdgated-hash";

// Runs until the service stops, or until it returns from a job it was given up on.
void run_hash_worker(const std::shared_ptr<HashShared>& shared, uint64_t worker_id);

// SHA-256 of fd, and its MD5 when `want` says so, in one read, stopping past max_bytes or at
// deadline (between chunks). Ok only when the file's stamp after the read is still `stamp`:
// anything else may be a mix of two contents.
[[nodiscard]] HashDone hash_bounded(int fd, const FileStamp& stamp, const HashSettings& settings,
                                    SteadyTime deadline, std::vector<unsigned char>& buffer,
                                    Digests want);

}  // namespace cmdgate
