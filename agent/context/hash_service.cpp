#include "context/hash_service.h"

#include <sys/eventfd.h>
#include <unistd.h>

#include <algorithm>
#include <iterator>
#include <system_error>

#include "common/errno_error.h"
#include "context/hash_worker.h"

namespace cmdgate {

Result<std::unique_ptr<HashService>> HashService::start(HashSettings settings) {
  Fd completion(::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK));
  if (!completion) {
    return errno_error("eventfd for hash results");
  }
  auto shared = std::make_shared<HashShared>(settings, std::move(completion));
  std::unique_ptr<HashService> service(new HashService(settings, std::move(shared)));
  if (auto started = service->ensure_workers(); !started) {
    return started.error();
  }
  return service;
}

HashService::HashService(const HashSettings& settings, std::shared_ptr<HashShared> shared)
    : settings_(settings), shared_(std::move(shared)), cache_(settings.cache_capacity) {}

HashService::~HashService() {
  std::vector<uint64_t> busy;
  std::deque<HashDisposal> leftover;
  {
    std::lock_guard lock(shared_->mutex);
    HashShared& s = *shared_;
    s.stopping = true;
    for (HashJob& job : s.queue) {
      leftover.push_back({std::move(job.file), job.stamp.dev});
    }
    s.queue.clear();
    std::move(s.to_close.begin(), s.to_close.end(), std::back_inserter(leftover));
    s.to_close.clear();
    // Joining a worker inside a read could wait forever: it is given up like a stuck one.
    for (auto& [id, slot] : s.workers) {
      if (slot.busy && !slot.lost) {
        slot.lost = true;
        ++s.stuck;
        ++s.stuck_devs[slot.dev];
        busy.push_back(id);
      }
    }
  }
  shared_->wake.notify_all();
  for (auto& [id, thread] : workers_) {
    if (std::find(busy.begin(), busy.end(), id) != busy.end()) {
      thread.detach();
    } else {
      thread.join();  // idle: it sees stopping and returns
    }
  }
  if (!leftover.empty()) {
    // Closing can block (FUSE); without a thread for it, they close here.
    try {
      std::thread([files = std::move(leftover)]() mutable { files.clear(); }).detach();
    } catch (const std::system_error&) {
    }
  }
}

std::optional<FileDigests> HashService::cached(const FileStamp& stamp, Digests want) {
  auto digest = cache_.find(stamp);
  if (!digest || (want == Digests::kSha256AndMd5 && !digest->md5)) {
    return std::nullopt;
  }
  ++counters_.cache_hits;
  return digest;
}

std::optional<HashResult> HashService::submit(Fd file, const FileStamp& stamp, uint64_t token,
                                              Digests want) {
  if (auto digest = cached(stamp, want)) {
    dispose(std::move(file), stamp.dev);
    return HashResult{token, HashOutcome::kOk, *digest, {}};
  }
  if (!file) {
    return refuse(token, HashOutcome::kUnreadable, hash_text::unreadable("no file to read"));
  }
  if (stamp.size > settings_.max_bytes) {
    dispose(std::move(file), stamp.dev);
    return refuse(token, HashOutcome::kTooLarge,
                  hash_text::too_large(stamp.size, settings_.max_bytes));
  }
  // A read under way joins when it computes what this one wants; one that does not is left to
  // finish, and this read becomes the stamp's.
  if (auto it = job_of_stamp_.find(stamp);
      it != job_of_stamp_.end() &&
      (want == Digests::kSha256 || jobs_.at(it->second).digests == want)) {
    jobs_.at(it->second).tokens.push_back(token);
    ++counters_.coalesced;
    dispose(std::move(file), stamp.dev);
    return std::nullopt;
  }
  // Without a worker the job waits and times out; the next call tries to start one again.
  (void)ensure_workers();
  const uint64_t id = next_job_;
  const SteadyTime deadline = std::chrono::steady_clock::now() + settings_.max_time;
  std::optional<HashResult> refused;
  {
    std::lock_guard lock(shared_->mutex);
    HashShared& s = *shared_;
    if (s.stuck >= settings_.max_stuck_workers) {
      refused = refuse(token, HashOutcome::kTimedOut, hash_text::stuck_cap(s.stuck));
    } else if (s.stuck_devs.contains(stamp.dev)) {
      refused = refuse(token, HashOutcome::kTimedOut, hash_text::stuck_device(stamp.dev));
    } else if (s.queue.size() >= settings_.queue_capacity) {
      refused = refuse(token, HashOutcome::kBusy, hash_text::queue_full(s.queue.size()));
    }
    if (refused) {
      s.to_close.push_back({std::move(file), stamp.dev});
    } else {
      s.queue.push_back({id, std::move(file), stamp, deadline, want});
    }
  }
  shared_->wake.notify_one();
  if (refused) {
    return refused;
  }
  ++next_job_;
  jobs_.emplace(id, InFlight{stamp, deadline, want, {token}});
  job_of_stamp_.insert_or_assign(stamp, id);
  return std::nullopt;
}

int HashService::completion_fd() const {
  return shared_->done_fd.get();
}

void HashService::drain(const std::function<void(HashResult)>& deliver) {
  // Read before taking the results: a result pushed after the swap signals again.
  uint64_t signals = 0;
  [[maybe_unused]] const ssize_t r = ::read(shared_->done_fd.get(), &signals, sizeof(signals));
  std::vector<HashDone> done;
  {
    std::lock_guard lock(shared_->mutex);
    done.swap(shared_->done);
  }
  for (const HashDone& d : done) {
    if (d.outcome == HashOutcome::kOk) {
      ++counters_.hashed;
      cache_.insert(d.stamp, d.digest);
    }
    if (jobs_.contains(d.job)) {  // else answered at its deadline; the digest still counts
      answer(d.job, d.outcome, d.digest, d.message);
    }
  }
  std::vector<HashResult> out;
  out.swap(ready_);
  for (HashResult& result : out) {
    deliver(std::move(result));
  }
}

void HashService::expire(SteadyTime now) {
  const std::string too_slow = hash_text::too_slow(settings_.max_time);
  std::vector<uint64_t> given_up;
  bool files_to_close = false;
  {
    std::lock_guard lock(shared_->mutex);
    HashShared& s = *shared_;
    auto drop_queued = [&](std::deque<HashJob>::iterator job) {
      files_to_close = true;
      s.to_close.push_back({std::move(job->file), job->stamp.dev});
      return s.queue.erase(job);
    };
    while (!jobs_.empty() && jobs_.begin()->second.deadline <= now) {
      const uint64_t id = jobs_.begin()->first;
      auto queued = std::find_if(s.queue.begin(), s.queue.end(),
                                 [id](const HashJob& j) { return j.id == id; });
      if (queued == s.queue.end()) {
        answer(id, HashOutcome::kTimedOut, {}, too_slow);  // its worker stops at the next chunk
      } else {
        drop_queued(queued);
        answer(id, HashOutcome::kTimedOut, {}, hash_text::queue_backed_up(settings_.max_time));
      }
    }
    for (auto& [worker, slot] : s.workers) {
      if (!slot.busy || slot.lost || now < slot.deadline + settings_.stuck_grace) {
        continue;
      }
      slot.lost = true;
      ++s.stuck;
      ++s.stuck_devs[slot.dev];
      ++counters_.lost_workers;
      given_up.push_back(worker);
      // The files waiting on that filesystem would trap the next worker too.
      for (auto job = s.queue.begin(); job != s.queue.end();) {
        if (job->stamp.dev != slot.dev) {
          ++job;
          continue;
        }
        const uint64_t id = job->id;
        job = drop_queued(job);
        answer(id, HashOutcome::kTimedOut, {}, hash_text::stuck_device(slot.dev));
      }
    }
  }
  // Only then has an idle worker something new to do: this runs on every tick of the daemon.
  if (files_to_close) {
    shared_->wake.notify_all();
  }
  for (uint64_t worker : given_up) {
    auto it = workers_.find(worker);
    it->second.detach();
    workers_.erase(it);
  }
  (void)ensure_workers();  // as in submit
  if (!ready_.empty()) {
    shared_->signal();
  }
}

std::optional<SteadyTime> HashService::next_deadline() const {
  std::optional<SteadyTime> next;
  if (!jobs_.empty()) {
    next = jobs_.begin()->second.deadline;
  }
  std::lock_guard lock(shared_->mutex);
  for (const auto& [worker, slot] : shared_->workers) {
    if (slot.busy && !slot.lost) {
      const SteadyTime stuck_at = slot.deadline + settings_.stuck_grace;
      next = next ? std::min(*next, stuck_at) : stuck_at;
    }
  }
  return next;
}

HashCounters HashService::counters() const {
  HashCounters c = counters_;
  std::lock_guard lock(shared_->mutex);
  c.stuck_workers = shared_->stuck;
  c.queued = shared_->queue.size();
  return c;
}

Status HashService::ensure_workers() {
  size_t stuck = 0;
  {
    std::lock_guard lock(shared_->mutex);
    stuck = shared_->stuck;
  }
  // Stuck workers still hold their threads; past the cap they are not replaced.
  while (workers_.size() < settings_.workers && stuck < settings_.max_stuck_workers) {
    const uint64_t id = next_worker_++;
    {
      std::lock_guard lock(shared_->mutex);
      shared_->workers[id] = {};
    }
    try {
      workers_.emplace(id, std::thread(run_hash_worker, shared_, id));
    } catch (const std::system_error& e) {
      std::lock_guard lock(shared_->mutex);
      shared_->workers.erase(id);
      return Error::format("starting a hashing thread: {}", e.what());
    }
  }
  return {};
}

void HashService::dispose(Fd file, uint64_t dev) {
  if (!file) {
    return;
  }
  {
    std::lock_guard lock(shared_->mutex);
    shared_->to_close.push_back({std::move(file), dev});
  }
  shared_->wake.notify_one();
}

void HashService::answer(uint64_t job, HashOutcome outcome, const FileDigests& digest,
                         const std::string& message) {
  auto it = jobs_.find(job);
  count(outcome, it->second.tokens.size());
  for (uint64_t token : it->second.tokens) {
    ready_.push_back({token, outcome, digest, message});
  }
  if (auto own = job_of_stamp_.find(it->second.stamp);
      own != job_of_stamp_.end() && own->second == job) {
    job_of_stamp_.erase(own);
  }
  jobs_.erase(it);
}

HashResult HashService::refuse(uint64_t token, HashOutcome outcome, std::string message) {
  count(outcome, 1);
  return {token, outcome, {}, std::move(message)};
}

void HashService::count(HashOutcome outcome, uint64_t tokens) {
  switch (outcome) {
    case HashOutcome::kOk:
      break;  // counted per read, in drain
    case HashOutcome::kTooLarge:
      counters_.too_large += tokens;
      break;
    case HashOutcome::kTimedOut:
      counters_.timed_out += tokens;
      break;
    case HashOutcome::kUnreadable:
      counters_.unreadable += tokens;
      break;
    case HashOutcome::kBusy:
      counters_.busy += tokens;
      break;
  }
}

}  // namespace cmdgate
