#include "context/hash_service.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <poll.h>
#include <sodium.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <filesystem>
#include <fstream>
#include <functional>
#include <thread>

#include "context/hash_worker.h"
#include "rules/file_digest.h"

namespace cmdgate {
namespace {

using namespace std::chrono_literals;

constexpr std::string_view kAbcSha256 =
    "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad";

struct Opened {
  Fd fd;
  FileStamp stamp;
};

FileStamp stamp_of(int fd) {
  struct stat st {};
  EXPECT_EQ(::fstat(fd, &st), 0);
  return FileStamp::of(st);
}

Opened open_file(const std::string& path) {
  Fd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
  EXPECT_TRUE(fd);
  const FileStamp stamp = stamp_of(fd.get());
  return {std::move(fd), stamp};
}

// A stream whose reads block until the test writes or closes its end.
struct Pipe {
  Fd read;
  Fd write;
  FileStamp stamp;
  Pipe() {
    int fds[2];
    EXPECT_EQ(::pipe2(fds, O_CLOEXEC), 0);
    read.reset(fds[0]);
    write.reset(fds[1]);
    stamp = stamp_of(read.get());
  }
};

rules::Sha256 sha256_of(std::string_view data) {
  rules::Sha256 out;
  crypto_hash_sha256(out.data(), reinterpret_cast<const unsigned char*>(data.data()), data.size());
  return out;
}

HashSettings quick_settings() {
  HashSettings s;
  s.workers = 1;
  s.max_time = 200ms;
  s.stuck_grace = 200ms;
  return s;
}

// Times this process's hashing threads went to sleep.
uint64_t hash_worker_sleeps() {
  uint64_t total = 0;
  for (const auto& task : std::filesystem::directory_iterator("/proc/self/task")) {
    std::ifstream comm(task.path() / "comm");
    std::string name;
    if (!std::getline(comm, name) || name != kHashWorkerThreadName) {
      continue;
    }
    std::ifstream status(task.path() / "status");
    constexpr std::string_view kKey = "voluntary_ctxt_switches:";
    for (std::string line; std::getline(status, line);) {
      if (line.starts_with(kKey)) {
        total += std::stoull(line.substr(kKey.size()));
      }
    }
  }
  return total;
}

class HashServiceTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/cmdgate-hash.XXXXXX";
    dir_ = ::mkdtemp(tmpl);
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }

  std::string write(const std::string& name, std::string_view content) {
    const std::string path = dir_ + "/" + name;
    std::ofstream(path, std::ios::binary | std::ios::trunc) << content;
    return path;
  }

  std::unique_ptr<HashService> start(HashSettings settings = {}) {
    auto service = HashService::start(settings);
    EXPECT_TRUE(service) << service.error().message;
    return std::move(*service);
  }

  // One turn of the loop: wait for a completion, expire, drain.
  void turn(HashService& s, std::chrono::milliseconds wait = 10ms) {
    pollfd p{s.completion_fd(), POLLIN, 0};
    ::poll(&p, 1, static_cast<int>(wait.count()));
    s.expire(std::chrono::steady_clock::now());
    s.drain([this](HashResult r) { results_.push_back(std::move(r)); });
  }

  size_t answers(uint64_t token) const {
    return static_cast<size_t>(std::count_if(
        results_.begin(), results_.end(), [&](const HashResult& r) { return r.token == token; }));
  }

  // Generous bounds: the machine is shared; a wait that runs out is the failure.
  std::optional<HashResult> wait_for(HashService& s, uint64_t token) {
    const auto limit = std::chrono::steady_clock::now() + 20s;
    while (std::chrono::steady_clock::now() < limit) {
      for (const HashResult& r : results_) {
        if (r.token == token) {
          return r;
        }
      }
      turn(s);
    }
    return std::nullopt;
  }

  bool wait_until(HashService& s, const std::function<bool(const HashCounters&)>& done) {
    const auto limit = std::chrono::steady_clock::now() + 20s;
    while (!done(s.counters())) {
      if (std::chrono::steady_clock::now() > limit) {
        return false;
      }
      turn(s);
    }
    return true;
  }

  std::string dir_;
  std::vector<HashResult> results_;
};

// The daemon expires on every tick of its loop. With nothing queued, nothing to close and no
// worker stuck, the idle workers sleep through it; work does wake them (the control).
TEST_F(HashServiceTest, ExpiringWithNothingToDoWakesNoWorker) {
  HashSettings settings = quick_settings();
  settings.workers = 2;
  auto s = start(settings);
  auto abc = open_file(write("abc", "abc"));
  ASSERT_FALSE(s->submit(std::move(abc.fd), abc.stamp, 1, Digests::kSha256));
  ASSERT_TRUE(wait_for(*s, 1));
  std::this_thread::sleep_for(50ms);  // both back asleep

  const uint64_t before = hash_worker_sleeps();
  ASSERT_GT(before, 0u) << "no thread named " << kHashWorkerThreadName;
  for (int i = 0; i < 100; ++i) {
    s->expire(std::chrono::steady_clock::now());
    std::this_thread::sleep_for(1ms);
  }
  EXPECT_LE(hash_worker_sleeps() - before, 2u);

  const uint64_t idle = hash_worker_sleeps();
  auto again = open_file(write("again", "again"));
  ASSERT_FALSE(s->submit(std::move(again.fd), again.stamp, 2, Digests::kSha256));
  ASSERT_TRUE(wait_for(*s, 2));
  const auto limit = std::chrono::steady_clock::now() + 20s;  // a woken worker sleeps again
  while (hash_worker_sleeps() == idle && std::chrono::steady_clock::now() < limit) {
    std::this_thread::sleep_for(1ms);
  }
  EXPECT_GT(hash_worker_sleeps(), idle);
}

TEST_F(HashServiceTest, DigestsMatchSha256) {
  auto s = start();
  auto abc = open_file(write("abc", "abc"));
  ASSERT_FALSE(s->submit(std::move(abc.fd), abc.stamp, 1, Digests::kSha256AndMd5));
  // Several chunks and a partial one.
  std::string big(3 * 65536 + 7, '\0');
  for (size_t i = 0; i < big.size(); ++i) {
    big[i] = static_cast<char>(i * 131 + i / 7);
  }
  auto large = open_file(write("large", big));
  ASSERT_FALSE(s->submit(std::move(large.fd), large.stamp, 2, Digests::kSha256AndMd5));

  auto first = wait_for(*s, 1);
  ASSERT_TRUE(first);
  EXPECT_EQ(first->outcome, HashOutcome::kOk) << first->message;
  EXPECT_EQ(rules::to_hex(first->digest.sha256), kAbcSha256);
  EXPECT_EQ(first->digest.md5, trust::md5_of("abc").value());
  EXPECT_TRUE(first->message.empty());
  auto second = wait_for(*s, 2);
  ASSERT_TRUE(second);
  EXPECT_EQ(second->outcome, HashOutcome::kOk) << second->message;
  EXPECT_EQ(second->digest.sha256, sha256_of(big));
  EXPECT_EQ(second->digest.md5, trust::md5_of(big).value());
  EXPECT_EQ(s->counters().hashed, 2u);
}

// The MD5 is computed only when asked for (only trust = "package" reads it). A digest cached
// without it does not answer a request that needs it: the file is read again, and that MD5 then
// stays cached beside the SHA-256 for both kinds of request.
TEST_F(HashServiceTest, AnMd5IsComputedOnlyWhenAskedForAndThenCached) {
  auto s = start();
  const std::string path = write("abc", "abc");
  auto plain = open_file(path);
  ASSERT_FALSE(s->submit(std::move(plain.fd), plain.stamp, 1));
  auto first = wait_for(*s, 1);
  ASSERT_TRUE(first);
  ASSERT_EQ(first->outcome, HashOutcome::kOk) << first->message;
  EXPECT_EQ(rules::to_hex(first->digest.sha256), kAbcSha256);
  EXPECT_FALSE(first->digest.md5);
  EXPECT_TRUE(s->cached(plain.stamp));
  EXPECT_FALSE(s->cached(plain.stamp, Digests::kSha256AndMd5));

  auto with_md5 = open_file(path);
  ASSERT_FALSE(s->submit(std::move(with_md5.fd), with_md5.stamp, 2, Digests::kSha256AndMd5));
  auto second = wait_for(*s, 2);
  ASSERT_TRUE(second);
  ASSERT_EQ(second->outcome, HashOutcome::kOk) << second->message;
  EXPECT_EQ(second->digest.md5, trust::md5_of("abc").value());
  EXPECT_EQ(s->counters().hashed, 2u);

  for (Digests want : {Digests::kSha256, Digests::kSha256AndMd5}) {
    auto again = open_file(path);
    auto hit = s->submit(std::move(again.fd), again.stamp, 3, want);
    ASSERT_TRUE(hit);
    EXPECT_EQ(hit->digest.md5, trust::md5_of("abc").value());
  }
  EXPECT_EQ(s->counters().hashed, 2u);
}

// A request that needs the MD5 does not join a read under way that does not compute it, and a
// request that needs only the SHA-256 joins either.
TEST_F(HashServiceTest, ARequestJoinsOnlyAReadThatComputesWhatItNeeds) {
  HashSettings settings;
  settings.workers = 1;
  auto s = start(settings);
  Pipe blocker;  // holds the only worker
  ASSERT_FALSE(s->submit(std::move(blocker.read), blocker.stamp, 1));
  ASSERT_TRUE(wait_until(*s, [](const HashCounters& c) { return c.queued == 0; }));
  const std::string path = write("abc", "abc");
  auto a = open_file(path);
  auto b = open_file(path);
  auto c = open_file(path);
  ASSERT_FALSE(s->submit(std::move(a.fd), a.stamp, 2));
  ASSERT_FALSE(s->submit(std::move(b.fd), b.stamp, 3, Digests::kSha256AndMd5));
  ASSERT_FALSE(s->submit(std::move(c.fd), c.stamp, 4));
  EXPECT_EQ(s->counters().coalesced, 1u);  // 4 joined 3's read, 3 did not join 2's
  blocker.write.reset();  // end of stream: the worker moves on
  ASSERT_TRUE(wait_for(*s, 1));
  auto r2 = wait_for(*s, 2);
  auto r3 = wait_for(*s, 3);
  auto r4 = wait_for(*s, 4);
  ASSERT_TRUE(r2 && r3 && r4);
  EXPECT_FALSE(r2->digest.md5);
  EXPECT_EQ(r3->digest.md5, trust::md5_of("abc").value());
  EXPECT_EQ(r4->digest.md5, trust::md5_of("abc").value());
}

TEST_F(HashServiceTest, OverTheCapIsTooLargeWithoutReading) {
  auto s = start();
  const std::string path = write("sparse", "");
  ASSERT_EQ(::truncate(path.c_str(), off_t{1} << 40), 0);
  auto f = open_file(path);
  auto result = s->submit(std::move(f.fd), f.stamp, 7);
  ASSERT_TRUE(result);  // answered in the call: nothing was queued for reading
  EXPECT_EQ(result->token, 7u);
  EXPECT_EQ(result->outcome, HashOutcome::kTooLarge);
  EXPECT_EQ(to_string(result->outcome), "too_large");
  EXPECT_EQ(result->message, "sha256 unknown: file is 1 TiB, over the 1 GiB hashing cap");
  EXPECT_EQ(s->counters().too_large, 1u);
  EXPECT_EQ(s->counters().hashed, 0u);
  EXPECT_EQ(s->counters().queued, 0u);
}

TEST_F(HashServiceTest, ReadingStopsAtTheCapWhenTheFileIsLargerThanItsStamp) {
  HashSettings settings;
  settings.max_bytes = 10;
  auto s = start(settings);
  auto f = open_file(write("grown", std::string(100, 'x')));
  FileStamp stale = f.stamp;
  stale.size = 5;
  ASSERT_FALSE(s->submit(std::move(f.fd), stale, 1));
  auto r = wait_for(*s, 1);
  ASSERT_TRUE(r);
  EXPECT_EQ(r->outcome, HashOutcome::kTooLarge);
  EXPECT_NE(r->message.find("grew past the 10 bytes hashing cap"), std::string::npos) << r->message;
}

TEST_F(HashServiceTest, CacheHitOnTheSameStampMissAfterAChange) {
  auto s = start();
  const std::string path = write("f", "abc");
  auto f = open_file(path);
  const FileStamp before = f.stamp;
  ASSERT_FALSE(s->submit(std::move(f.fd), before, 1));
  ASSERT_TRUE(wait_for(*s, 1));
  ASSERT_TRUE(s->cached(before));
  EXPECT_EQ(rules::to_hex(s->cached(before)->sha256), kAbcSha256);

  auto again = open_file(path);
  auto hit = s->submit(std::move(again.fd), again.stamp, 2);
  ASSERT_TRUE(hit);
  EXPECT_EQ(hit->outcome, HashOutcome::kOk);
  EXPECT_EQ(rules::to_hex(hit->digest.sha256), kAbcSha256);
  EXPECT_EQ(s->counters().cache_hits, 3u);
  EXPECT_EQ(s->counters().hashed, 1u);

  std::ofstream(path, std::ios::app) << "d";
  auto changed = open_file(path);
  ASSERT_FALSE(changed.stamp == before);
  EXPECT_FALSE(s->cached(changed.stamp));
  ASSERT_FALSE(s->submit(std::move(changed.fd), changed.stamp, 3));
  auto r = wait_for(*s, 3);
  ASSERT_TRUE(r);
  EXPECT_EQ(r->digest.sha256, sha256_of("abcd"));
  EXPECT_EQ(s->counters().hashed, 2u);
}

TEST_F(HashServiceTest, AStampTheFileNoLongerHasIsUnreadableAndNotCached) {
  auto s = start();
  auto f = open_file(write("f", "abc"));
  FileStamp stale = f.stamp;
  stale.mtime_nsec += 1;
  ASSERT_FALSE(s->submit(std::move(f.fd), stale, 1));
  auto r = wait_for(*s, 1);
  ASSERT_TRUE(r);
  EXPECT_EQ(r->outcome, HashOutcome::kUnreadable);
  EXPECT_EQ(r->message, "sha256 unknown: the file changed while it was hashed");
  EXPECT_FALSE(s->cached(stale));
  EXPECT_FALSE(s->cached(f.stamp));
  EXPECT_EQ(s->counters().unreadable, 1u);
}

TEST_F(HashServiceTest, SubmitsForOneStampShareOneRead) {
  auto s = start();
  const std::string path = write("f", "abc");
  auto a = open_file(path);
  auto b = open_file(path);
  ASSERT_TRUE(a.stamp == b.stamp);
  ASSERT_FALSE(s->submit(std::move(a.fd), a.stamp, 1));
  ASSERT_FALSE(s->submit(std::move(b.fd), b.stamp, 2));
  auto r1 = wait_for(*s, 1);
  auto r2 = wait_for(*s, 2);
  ASSERT_TRUE(r1 && r2);
  EXPECT_EQ(rules::to_hex(r1->digest.sha256), kAbcSha256);
  EXPECT_EQ(r2->digest, r1->digest);
  EXPECT_EQ(s->counters().hashed, 1u);
  EXPECT_EQ(s->counters().coalesced, 1u);
  EXPECT_EQ(answers(1) + answers(2), 2u);
}

TEST_F(HashServiceTest, AFullQueueIsBusyAtOnce) {
  HashSettings settings;
  settings.workers = 1;
  settings.queue_capacity = 1;
  auto s = start(settings);
  Pipe blocker;  // holds the only worker
  ASSERT_FALSE(s->submit(std::move(blocker.read), blocker.stamp, 1));
  ASSERT_TRUE(wait_until(*s, [](const HashCounters& c) { return c.queued == 0; }));
  auto waiting = open_file(write("waiting", "abc"));
  ASSERT_FALSE(s->submit(std::move(waiting.fd), waiting.stamp, 2));
  auto extra = open_file(write("extra", "abcd"));
  auto busy = s->submit(std::move(extra.fd), extra.stamp, 3);
  ASSERT_TRUE(busy);
  EXPECT_EQ(busy->outcome, HashOutcome::kBusy);
  EXPECT_EQ(busy->message, "sha256 unknown: the hashing queue is full (1 files waiting)");
  EXPECT_EQ(s->counters().busy, 1u);

  blocker.write.reset();  // end of stream: the worker moves on
  ASSERT_TRUE(wait_for(*s, 1));
  auto r = wait_for(*s, 2);
  ASSERT_TRUE(r);
  EXPECT_EQ(rules::to_hex(r->digest.sha256), kAbcSha256);
}

// The worker is stuck inside read(2) as it would be on a FUSE file whose server never answers.
TEST_F(HashServiceTest, AStuckReadTimesOutItsWorkerIsReplacedAndItsReturnDeliversNothing) {
  auto s = start(quick_settings());
  Pipe stuck;
  ASSERT_FALSE(s->submit(std::move(stuck.read), stuck.stamp, 1));
  auto r = wait_for(*s, 1);
  ASSERT_TRUE(r);
  EXPECT_EQ(r->outcome, HashOutcome::kTimedOut);
  EXPECT_EQ(r->message, "sha256 unknown: hashing took longer than the 200 ms limit");
  ASSERT_TRUE(wait_until(*s, [](const HashCounters& c) { return c.lost_workers == 1; }));
  EXPECT_EQ(s->counters().stuck_workers, 1u);

  // The only worker is stuck: a replacement hashes this.
  auto f = open_file(write("after", "abc"));
  ASSERT_FALSE(s->submit(std::move(f.fd), f.stamp, 2));
  auto after = wait_for(*s, 2);
  ASSERT_TRUE(after);
  EXPECT_EQ(after->outcome, HashOutcome::kOk) << after->message;

  // Same filesystem as the stuck read: refused without spending another worker on it.
  Pipe same_fs;
  auto quarantined = s->submit(std::move(same_fs.read), same_fs.stamp, 3);
  ASSERT_TRUE(quarantined);
  EXPECT_EQ(quarantined->outcome, HashOutcome::kTimedOut);
  EXPECT_NE(quarantined->message.find("has not returned"), std::string::npos);

  ASSERT_EQ(::write(stuck.write.get(), "x", 1), 1);
  stuck.write.reset();
  ASSERT_TRUE(wait_until(*s, [](const HashCounters& c) { return c.stuck_workers == 0; }));
  for (int i = 0; i < 20; ++i) {
    turn(*s);
  }
  EXPECT_EQ(answers(1), 1u);

  // Its return lifted the quarantine.
  Pipe flowing;
  ASSERT_EQ(::write(flowing.write.get(), "abc", 3), 3);
  flowing.write.reset();
  flowing.stamp = stamp_of(flowing.read.get());
  ASSERT_FALSE(s->submit(std::move(flowing.read), flowing.stamp, 4));
  auto lifted = wait_for(*s, 4);
  ASSERT_TRUE(lifted);
  EXPECT_EQ(rules::to_hex(lifted->digest.sha256), kAbcSha256) << lifted->message;
  EXPECT_EQ(s->counters().lost_workers, 1u);
  EXPECT_EQ(s->counters().timed_out, 2u);
}

TEST_F(HashServiceTest, PastTheStuckCapSubmitsFailAtOnceUntilAReadReturns) {
  HashSettings settings = quick_settings();
  settings.max_stuck_workers = 1;
  auto s = start(settings);
  Pipe stuck;
  ASSERT_FALSE(s->submit(std::move(stuck.read), stuck.stamp, 1));
  ASSERT_TRUE(wait_until(*s, [](const HashCounters& c) { return c.stuck_workers == 1; }));

  auto f = open_file(write("f", "abc"));
  auto refused = s->submit(std::move(f.fd), f.stamp, 2);
  ASSERT_TRUE(refused);
  EXPECT_EQ(refused->outcome, HashOutcome::kTimedOut);
  EXPECT_EQ(refused->message,
            "sha256 unknown: hashing is off until a stuck read returns (1 stuck, the cap)");

  stuck.write.reset();
  ASSERT_TRUE(wait_until(*s, [](const HashCounters& c) { return c.stuck_workers == 0; }));
  auto g = open_file(write("f", "abc"));
  ASSERT_FALSE(s->submit(std::move(g.fd), g.stamp, 3));
  auto r = wait_for(*s, 3);
  ASSERT_TRUE(r);
  EXPECT_EQ(r->outcome, HashOutcome::kOk) << r->message;
}

TEST_F(HashServiceTest, AWorkerPastItsDeadlineStopsAtTheNextChunk) {
  HashSettings settings = quick_settings();
  settings.stuck_grace = 10s;  // only a worker that never comes back would be given up
  auto s = start(settings);
  int fds[2];
  ASSERT_EQ(::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, fds), 0);
  Fd reader(fds[0]);
  Fd writer(fds[1]);
  std::atomic<bool> stop{false};
  std::thread trickle([&] {
    while (!stop.load(std::memory_order_relaxed)) {
      if (::send(writer.get(), "x", 1, MSG_NOSIGNAL) != 1) {
        return;  // the worker closed its end
      }
      std::this_thread::sleep_for(5ms);
    }
  });
  const FileStamp stamp = stamp_of(reader.get());
  ASSERT_FALSE(s->submit(std::move(reader), stamp, 1));
  auto r = wait_for(*s, 1);
  ASSERT_TRUE(r);
  EXPECT_EQ(r->outcome, HashOutcome::kTimedOut);

  // The one worker is free again, without a replacement.
  auto f = open_file(write("f", "abc"));
  ASSERT_FALSE(s->submit(std::move(f.fd), f.stamp, 2));
  auto after = wait_for(*s, 2);
  stop.store(true, std::memory_order_relaxed);
  trickle.join();
  ASSERT_TRUE(after);
  EXPECT_EQ(after->outcome, HashOutcome::kOk) << after->message;
  EXPECT_EQ(s->counters().lost_workers, 0u);
  EXPECT_EQ(answers(1), 1u);
}

TEST_F(HashServiceTest, DestructionDoesNotWaitForAReadInProgress) {
  auto s = start(quick_settings());
  Pipe stuck;
  ASSERT_FALSE(s->submit(std::move(stuck.read), stuck.stamp, 1));
  ASSERT_TRUE(wait_until(*s, [](const HashCounters& c) { return c.queued == 0; }));
  auto queued = open_file(write("f", "abc"));
  ASSERT_FALSE(s->submit(std::move(queued.fd), queued.stamp, 2));
  s.reset();  // would hang here if it joined the worker
  // The given-up worker returns after its service is gone and must touch nothing of it.
  stuck.write.reset();
}

}  // namespace
}  // namespace cmdgate
