#include "common/forked_call.h"

#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstdlib>
#include <stdexcept>
#include <thread>
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "common/fd.h"

namespace cmdgate {
namespace {

using std::chrono::milliseconds;
using ::testing::HasSubstr;

constexpr milliseconds kGenerous{20000};

TEST(ForkedCall, ReturnsWhatTheChildProduced) {
  auto r = run_in_child([] { return std::string("made in ") + std::to_string(::getpid()); },
                        kGenerous);
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_THAT(*r, HasSubstr("made in "));
  EXPECT_NE(*r, "made in " + std::to_string(::getpid()));  // not this process's work
}

TEST(ForkedCall, AnAnswerLargerThanAPipeArrivesWhole) {
  std::string big(5 << 20, '\0');
  for (size_t i = 0; i < big.size(); ++i) {
    big[i] = static_cast<char>(i * 131 + (i >> 11));
  }
  auto r = run_in_child([&] { return big; }, kGenerous);
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_TRUE(*r == big) << r->size() << " bytes of " << big.size();
}

TEST(ForkedCall, WhatTheChildChangesStaysInTheChild) {
  int value = 1;
  auto r = run_in_child(
      [&] {
        value = 2;
        return std::string("done");
      },
      kGenerous);
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_EQ(value, 1);
}

TEST(ForkedCall, AChildThatCrashesIsAnErrorNamingTheSignal) {
  auto r = run_in_child(
      []() -> std::string {
        ::signal(SIGSEGV, SIG_DFL);
        ::raise(SIGSEGV);
        return "unreachable";
      },
      kGenerous);
  ASSERT_FALSE(r.ok());
  EXPECT_THAT(r.error().message, HasSubstr("SIGSEGV"));
}

TEST(ForkedCall, AChildThatThrowsIsAnError) {
  auto r = run_in_child([]() -> std::string { throw std::runtime_error("no"); }, kGenerous);
  ASSERT_FALSE(r.ok());
  EXPECT_THAT(r.error().message, HasSubstr("threw"));
}

TEST(ForkedCall, AChildThatExitsEarlyIsAnErrorNotAShortAnswer) {
  auto r = run_in_child([]() -> std::string { ::_exit(7); }, kGenerous);
  ASSERT_FALSE(r.ok());
  EXPECT_THAT(r.error().message, HasSubstr("status 7"));
}

// With SIGCHLD ignored the kernel reaps the child itself: its exit status is gone, and so is any
// reason to believe its answer.
TEST(ForkedCall, AChildWhoseEndCannotBeKnownIsAnError) {
  struct sigaction ignore {};
  ignore.sa_handler = SIG_IGN;
  struct sigaction before {};
  ASSERT_EQ(::sigaction(SIGCHLD, &ignore, &before), 0);
  auto r = run_in_child([] { return std::string("maybe"); }, kGenerous);
  ::sigaction(SIGCHLD, &before, nullptr);
  ASSERT_FALSE(r.ok()) << "accepted: " << *r;
  EXPECT_THAT(r.error().message, HasSubstr("waiting for the child"));
}

// The child that hangs tells the test its pid through a pipe of the test's own, so the test can
// check it was killed and reaped rather than left running or as a zombie.
TEST(ForkedCall, AChildPastTheDeadlineIsKilledAndReaped) {
  int ends[2];
  ASSERT_EQ(::pipe(ends), 0);
  Fd report_in(ends[0]);
  Fd report_out(ends[1]);
  auto r = run_in_child(
      [&]() -> std::string {
        const pid_t self = ::getpid();
        (void)!::write(report_out.get(), &self, sizeof self);
        for (;;) {
          ::pause();
        }
      },
      milliseconds(300));
  ASSERT_FALSE(r.ok());
  EXPECT_THAT(r.error().message, HasSubstr("did not finish within 300 ms"));
  pid_t child = 0;
  ASSERT_EQ(::read(report_in.get(), &child, sizeof child), static_cast<ssize_t>(sizeof child));
  ASSERT_GT(child, 0);
  errno = 0;
  EXPECT_EQ(::kill(child, 0), -1);
  EXPECT_EQ(errno, ESRCH) << "the child is still there (running or a zombie)";
}

// The premise of the header: the child of a process whose other threads allocate all the time
// can allocate too (glibc takes malloc's locks across the fork; one held by another thread at the
// fork would hang the child until the deadline). The sanitizers' allocators do not, so this holds
// for the release build only.
#ifndef CMDGATE_SANITIZED
TEST(ForkedCall, AChildForkedWhileOtherThreadsAllocateCanAllocate) {
  std::atomic<bool> stop{false};
  std::vector<std::thread> churn;
  for (int t = 0; t < 3; ++t) {
    churn.emplace_back([&] {
      while (!stop.load(std::memory_order_relaxed)) {
        std::vector<std::string> v;
        for (int i = 0; i < 64; ++i) {
          v.emplace_back(static_cast<size_t>(100 + i * 37), 'x');
        }
      }
    });
  }
  int failures = 0;
  for (int round = 0; round < 40; ++round) {
    auto r = run_in_child(
        [] {
          std::vector<std::string> v;
          for (int i = 0; i < 2000; ++i) {
            v.emplace_back(static_cast<size_t>(50 + i % 700), 'y');
          }
          return std::to_string(v.size());
        },
        milliseconds(10000));
    if (!r.ok() || *r != "2000") {
      ++failures;
      ADD_FAILURE() << "round " << round << ": " << (r.ok() ? *r : r.error().message);
    }
    if (failures > 2) {
      break;
    }
  }
  stop = true;
  for (auto& t : churn) {
    t.join();
  }
}
#endif

}  // namespace
}  // namespace cmdgate
