#include "context/hash_worker.h"

#include <fcntl.h>
#include <pthread.h>
#include <sodium.h>
#include <spdlog/spdlog.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <mutex>

#include "common/errno_error.h"

namespace cmdgate {

namespace {

constexpr size_t kChunk = size_t{1} << 16;

HashDone failed(HashOutcome outcome, std::string message) {
  HashDone d;
  d.outcome = outcome;
  d.message = std::move(message);
  return d;
}

// Once: every later hash meets the same error (the library is opened once per process).
void report_md5_unavailable(const Error& why) {
  static std::once_flag reported;
  std::call_once(reported,
                 [&why] { spdlog::error("package trust stays unknown: {}", why.message); });
}

// Called with the lock held after a job or a close. A worker the loop gave up on meanwhile
// takes itself off the books and must exit: its job was answered and a replacement runs.
bool leave_if_lost(HashShared& s, uint64_t worker_id) {
  auto it = s.workers.find(worker_id);
  if (!it->second.lost) {
    it->second.busy = false;
    return false;
  }
  --s.stuck;
  if (auto dev = s.stuck_devs.find(it->second.dev);
      dev != s.stuck_devs.end() && --dev->second == 0) {
    s.stuck_devs.erase(dev);
  }
  s.workers.erase(it);
  return true;
}

}  // namespace

void HashShared::signal() const {
  const uint64_t one = 1;
  [[maybe_unused]] const ssize_t n = ::write(done_fd.get(), &one, sizeof(one));
}

void run_hash_worker(const std::shared_ptr<HashShared>& shared, uint64_t worker_id) {
  ::pthread_setname_np(::pthread_self(), kHashWorkerThreadName);
  HashShared& s = *shared;
  std::vector<unsigned char> buffer(kChunk);
  std::unique_lock lock(s.mutex);
  for (;;) {
    s.wake.wait(lock, [&] { return s.stopping || !s.queue.empty() || !s.to_close.empty(); });
    if (s.stopping) {
      return;
    }
    HashWorkerSlot& slot = s.workers.at(worker_id);
    slot.busy = true;
    const auto now = std::chrono::steady_clock::now();
    if (!s.to_close.empty()) {
      HashDisposal disposal = std::move(s.to_close.front());
      s.to_close.pop_front();
      slot.deadline = now + s.settings.max_time;
      slot.dev = disposal.dev;
      lock.unlock();
      disposal.file.reset();
      lock.lock();
      if (leave_if_lost(s, worker_id)) {
        return;
      }
      continue;
    }
    HashJob job = std::move(s.queue.front());
    s.queue.pop_front();
    // A job picked up late is over at once; the grace runs from now, so that it is not taken
    // for a stuck read.
    slot.deadline = std::max(job.deadline, now);
    slot.dev = job.stamp.dev;
    lock.unlock();
    // A path-only descriptor (the loop never opens a file for reading: that can block on a
    // FUSE server) is opened for reading here, where blocking costs a worker, not the loop.
    if (const int flags = ::fcntl(job.file.get(), F_GETFL); flags >= 0 && (flags & O_PATH)) {
      job.file.reset(::open(fmt::format("/proc/self/fd/{}", job.file.get()).c_str(),
                            O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOCTTY));
    }
    HashDone done = job.file ? hash_bounded(job.file.get(), job.stamp, s.settings, job.deadline,
                                            buffer, job.digests)
                             : failed(HashOutcome::kUnreadable,
                                      hash_text::unreadable(errno_error("opening it").message));
    done.job = job.id;
    done.stamp = job.stamp;
    job.file.reset();  // inside the job's time: closing a FUSE file waits for its server too
    lock.lock();
    if (leave_if_lost(s, worker_id)) {
      return;
    }
    s.done.push_back(std::move(done));
    s.signal();
  }
}

HashDone hash_bounded(int fd, const FileStamp& stamp, const HashSettings& settings,
                      SteadyTime deadline, std::vector<unsigned char>& buffer, Digests want) {
  crypto_hash_sha256_state state;
  crypto_hash_sha256_init(&state);
  std::optional<trust::Md5Hasher> md5;
  if (want == Digests::kSha256AndMd5) {
    if (auto hasher = trust::Md5Hasher::create()) {
      md5.emplace(*hasher);
    } else {
      // The MD5 stays unknown, and with it whether dpkg vouches for the file (context_builder).
      report_md5_unavailable(hasher.error());
    }
  }
  uint64_t total = 0;
  // Pipes and FIFOs have no offsets and are read as they flow. No exec gives one, but a pipe is
  // how a read that never returns is reproduced without a FUSE mount.
  bool stream = false;
  for (;;) {
    if (std::chrono::steady_clock::now() >= deadline) {
      return failed(HashOutcome::kTimedOut, hash_text::too_slow(settings.max_time));
    }
    const ssize_t n = stream ? ::read(fd, buffer.data(), buffer.size())
                             : ::pread(fd, buffer.data(), buffer.size(), static_cast<off_t>(total));
    if (n < 0) {
      if (errno == EINTR) {
        continue;
      }
      if (errno == ESPIPE && !stream && total == 0) {
        stream = true;
        continue;
      }
      return failed(HashOutcome::kUnreadable,
                    hash_text::unreadable(errno_error("reading the file").message));
    }
    if (n == 0) {
      break;
    }
    total += static_cast<uint64_t>(n);
    if (total > settings.max_bytes) {
      return failed(HashOutcome::kTooLarge, hash_text::grew_past_cap(settings.max_bytes));
    }
    crypto_hash_sha256_update(&state, buffer.data(), static_cast<unsigned long long>(n));
    if (md5) {
      md5->update(buffer.data(), static_cast<size_t>(n));
    }
  }
  struct stat after {};
  if (::fstat(fd, &after) != 0) {
    return failed(HashOutcome::kUnreadable,
                  hash_text::unreadable(errno_error("fstat after hashing").message));
  }
  if (!(FileStamp::of(after) == stamp)) {
    return failed(HashOutcome::kUnreadable, hash_text::changed());
  }
  HashDone done;
  crypto_hash_sha256_final(&state, done.digest.sha256.data());
  if (md5) {
    done.digest.md5 = md5->finish();
  }
  return done;
}

}  // namespace cmdgate
