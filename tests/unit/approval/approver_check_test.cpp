#include "approval/approver_check.h"

#include <gtest/gtest.h>

#include "probe/abi_check.h"

namespace cmdgate {
namespace {

// claude (100, session 50's member) -> bash (200) -> rm (300); the terminal's shell 50 leads
// session 50, under sshd 10.
ExecEvent request() {
  ExecEvent e;
  e.tgid = 300;
  e.sid = 50;
  e.lineage = {{200, 50, {}, "bash"}, {100, 50, {}, "claude"}, {50, 50, {}, "bash"},
               {10, 10, {}, "sshd"}, {1, 1, {}, "systemd"}};
  return e;
}

Peer peer(uint32_t pid, uint32_t sid, std::vector<uint32_t> chain) {
  Peer p;
  p.pid = pid;
  p.sid = sid;
  p.live_chain = std::move(chain);
  return p;
}

TEST(ApproverCheck, TreeRunsUpToTheSessionLeader) {
  const RequesterTree t = requester_tree(request());
  EXPECT_EQ(t.members, (std::vector<uint32_t>{300, 200, 100, 50}));
}

TEST(ApproverCheck, TheRequesterItsAncestorsAndTheirDescendantsAreRefused) {
  const RequesterTree t = requester_tree(request());
  EXPECT_TRUE(inside_tree(t, peer(300, 50, {200})));        // itself
  EXPECT_TRUE(inside_tree(t, peer(100, 50, {50})));         // the agent
  EXPECT_TRUE(inside_tree(t, peer(900, 77, {100, 50})));    // the agent's child, new session
  EXPECT_TRUE(inside_tree(t, peer(901, 50, {2})));          // same session, reparented
  EXPECT_FALSE(inside_tree(t, peer(700, 70, {60, 10, 1})));  // another ssh login
}

TEST(ApproverCheck, RecordedAncestryCatchesEscapedDescendants) {
  const RequesterTree t = requester_tree(request());
  // Double-forked away from the agent, reparented to init, new session: only the kernel's
  // fork-time record still knows.
  Peer p = peer(950, 95, {1});
  p.kernel = Ancestry{};
  p.kernel->tgids = {940, 930, 920, 910, 905, 904, 903, 902};  // deeper than the lineage
  for (uint32_t tgid : {940u, 930u, 100u}) {
    for (uint32_t which = 0; which < CG_BLOOM_HASHES; ++which) {
      const uint32_t bit = cg_bloom_bit(tgid, which);
      p.kernel->bloom[bit / 64] |= uint64_t{1} << (bit % 64);
    }
  }
  const auto why = inside_tree(t, p);
  ASSERT_TRUE(why);
  EXPECT_NE(why->find("100"), std::string::npos);
}

TEST(ApproverCheck, ASetsidRequesterBelongsToItsParentsSession) {
  ExecEvent e = request();
  e.sid = e.tgid;  // `setsid rm -rf ~` from the agent's shell
  const RequesterTree t = requester_tree(e);
  EXPECT_EQ(t.sid, 50u);
  EXPECT_TRUE(inside_tree(t, peer(100, 50, {50})));
}

TEST(ApproverCheck, ApproversAreRootAndTheGroup) {
  Peer p;
  p.uid = 0;
  EXPECT_TRUE(is_approver(p, std::nullopt));
  p.uid = 1000;
  p.gid = 1000;
  EXPECT_FALSE(is_approver(p, std::nullopt));
  EXPECT_FALSE(is_approver(p, 999u));
  p.groups = {27, 999};
  EXPECT_TRUE(is_approver(p, 999u));
}

}  // namespace
}  // namespace cmdgate
