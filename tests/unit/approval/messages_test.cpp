// What the daemon sends about a parked process: every byte of it, or a cut that says so, and
// never a message a client cannot read.

#include "approval/messages.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "protocol/framing.h"

namespace cmdgate {
namespace {

PendingRequest request(std::vector<std::string> argv) {
  PendingRequest r;
  r.id = 7;
  r.event.tgid = 4242;
  r.event.path =
      "/usr/bin/\xff"
      "tool";
  r.argv = std::move(argv);
  r.cwd = "/srv/\xc0\xaf";
  r.lineage.push_back({1, "sh\x1b[2K", "/bin/\xfe"});
  return r;
}

// What a client parses from the frame the daemon would send.
protocol::ApprovalRequest round_trip(const protocol::ApprovalRequest& m) {
  protocol::ServerMessage out;
  *out.mutable_request() = m;
  const std::string frame = protocol::encode_frame(out);
  EXPECT_LE(frame.size(), 4 + size_t{protocol::kMaxFrameBytes});
  protocol::ServerMessage in;
  EXPECT_TRUE(in.ParseFromString(frame.substr(4)));
  return in.request();
}

TEST(ApprovalMessages, BytesThatAreNotUtf8ArriveExactly) {
  const auto r = request({"echo", "\r\x1b[2K", "\xff\xfe", "\xed\xa0\x80"});
  const protocol::ApprovalRequest got = round_trip(to_request(r));
  ASSERT_EQ(got.argv_size(), 4);
  EXPECT_EQ(got.argv(1), "\r\x1b[2K");
  EXPECT_EQ(got.argv(2), "\xff\xfe");
  EXPECT_EQ(got.argv(3), "\xed\xa0\x80");
  EXPECT_EQ(got.exe(), r.event.path);
  EXPECT_EQ(got.cwd(), r.cwd);
  ASSERT_EQ(got.lineage_size(), 1);
  EXPECT_EQ(got.lineage(0).comm(), "sh\x1b[2K");
  EXPECT_EQ(got.lineage(0).exe(), "/bin/\xfe");
  EXPECT_EQ(got.argc(), 4u);
  EXPECT_EQ(got.argv_omitted_bytes(), 0u);
}

TEST(ApprovalMessages, AnArgvLargerThanAFrameIsCutAndTheCutCounted) {
  // ARG_MAX allows megabytes of arguments; the kernel's limit per argument is 128 KiB.
  std::vector<std::string> argv{"rm", "-rf"};
  for (int i = 0; i < 30; ++i) {
    argv.push_back(std::string(128u << 10, 'a' + static_cast<char>(i % 26)));
  }
  argv.push_back("/");
  size_t total = 0;
  for (const auto& a : argv) {
    total += a.size();
  }
  const protocol::ApprovalRequest got = round_trip(to_request(request(argv)));
  EXPECT_EQ(got.argc(), argv.size());
  ASSERT_LT(got.argv_size(), static_cast<int>(argv.size()));
  size_t sent = 0;
  for (int i = 0; i < got.argv_size(); ++i) {
    // Whole arguments, except that the last one sent may be a prefix.
    EXPECT_EQ(got.argv(i), argv[i].substr(0, got.argv(i).size()));
    if (i + 1 < got.argv_size()) {
      EXPECT_EQ(got.argv(i), argv[i]);
    }
    sent += got.argv(i).size();
  }
  EXPECT_EQ(sent, kMaxSentArgvBytes);
  EXPECT_EQ(sent + got.argv_omitted_bytes(), total);
}

TEST(ApprovalMessages, AnArgumentCutAtTheBudgetStillCountsTheArgumentsAfterIt) {
  const protocol::ApprovalRequest got = to_request(request({"abc", "defgh", "", "ij"}), 5);
  ASSERT_EQ(got.argv_size(), 2);
  EXPECT_EQ(got.argv(0), "abc");
  EXPECT_EQ(got.argv(1), "de");
  EXPECT_EQ(got.argc(), 4u);
  EXPECT_EQ(got.argv_omitted_bytes(), 5u);
}

TEST(ApprovalMessages, APendingListAlwaysFitsInOneFrame) {
  std::vector<PendingRequest> storage;
  for (int i = 0; i < 40; ++i) {
    storage.push_back(request({"big", std::string(128u << 10, 'x'), std::string(100u << 10, 'y')}));
    storage.back().id = static_cast<uint64_t>(i + 1);
  }
  std::vector<const PendingRequest*> list;
  for (const auto& r : storage) {
    list.push_back(&r);
  }
  protocol::ServerMessage m;
  m.set_request_id(UINT64_MAX);
  *m.mutable_pending() = to_pending_list(list);
  const std::string frame = protocol::encode_frame(m);
  EXPECT_LE(frame.size() - 4, size_t{protocol::kMaxFrameBytes});
  // 40 such requests fit once their argv is cut; each says it was.
  EXPECT_EQ(m.pending().requests_size(), 40);
  EXPECT_EQ(m.pending().omitted(), 0u);
  for (const auto& r : m.pending().requests()) {
    EXPECT_GT(r.argv_omitted_bytes(), 0u);
    EXPECT_EQ(r.argc(), 3u);
  }
}

TEST(ApprovalMessages, RequestsBeyondOneFrameAreCountedNotDropped) {
  std::vector<PendingRequest> storage;
  for (int i = 0; i < 600; ++i) {
    storage.push_back(request({"big", std::string(8u << 10, 'x')}));
    storage.back().cwd = std::string(4000, 'c');
  }
  std::vector<const PendingRequest*> list;
  for (const auto& r : storage) {
    list.push_back(&r);
  }
  protocol::ServerMessage m;
  m.set_request_id(UINT64_MAX);
  *m.mutable_pending() = to_pending_list(list);
  EXPECT_LE(protocol::encode_frame(m).size() - 4, size_t{protocol::kMaxFrameBytes});
  EXPECT_GT(m.pending().omitted(), 0u);
  EXPECT_EQ(m.pending().requests_size() + static_cast<int>(m.pending().omitted()), 600);
}

}  // namespace
}  // namespace cmdgate
