#include "approval/approver_check.h"

#include <algorithm>
#include <random>
#include <vector>

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

void add_to_bloom(Ancestry& a, const std::vector<uint32_t>& tgids) {
  for (uint32_t tgid : tgids) {
    for (uint32_t which = 0; which < CG_BLOOM_HASHES; ++which) {
      const uint32_t bit = cg_bloom_bit(tgid, which);
      a.bloom[bit / 64] |= uint64_t{1} << (bit % 64);
    }
  }
}

void add_to_bloom(Ancestry& a, std::initializer_list<uint32_t> tgids) {
  add_to_bloom(a, std::vector<uint32_t>(tgids));
}

TEST(ApproverCheck, RecordedAncestryCatchesEscapedDescendants) {
  const RequesterTree t = requester_tree(request());
  // Double-forked away from the agent, reparented to init, new session: only the kernel's
  // fork-time record still knows.
  Peer p = peer(950, 95, {1});
  p.kernel = Ancestry{};
  p.kernel->tgids = {940, 930, 920, 910, 905, 904, 903, 902};  // deeper than the lineage
  p.kernel->truncated = true;
  add_to_bloom(*p.kernel, {940, 930, 920, 910, 905, 904, 903, 902, 100});
  const auto why = inside_tree(t, p);
  ASSERT_TRUE(why);
  EXPECT_NE(why->find("100"), std::string::npos);
}

TEST(ApproverCheck, AnAncestryRecordedToInitIsExactAndTheFilterStaysUnasked) {
  const RequesterTree t = requester_tree(request());
  Peer p = peer(950, 95, {1});
  p.kernel = Ancestry{};
  p.kernel->tgids = {940, 930, 1};
  p.kernel->bloom.fill(~uint64_t{0});  // would claim every pid
  EXPECT_FALSE(inside_tree(t, p));
}

// A false positive refuses a legitimate approver; it must stay rare for deep approver shells
// (tmux, ssh, sudo, make, ...) facing many requests.
TEST(ApproverCheck, TheAncestryFilterRarelyClaimsAStranger) {
  std::mt19937 rng(20261123);
  std::uniform_int_distribution<uint32_t> pid(2, 4'194'304);
  int false_positives = 0;
  constexpr int kTrials = 20'000;
  for (int trial = 0; trial < kTrials; ++trial) {
    std::vector<uint32_t> ancestors(20);
    for (auto& a : ancestors) {
      a = pid(rng);
    }
    Peer p = peer(ancestors[0], ancestors[0], {1});
    p.kernel = Ancestry{};
    p.kernel->tgids.assign(ancestors.begin(), ancestors.begin() + CG_LINEAGE_DEPTH);
    p.kernel->truncated = true;
    add_to_bloom(*p.kernel, ancestors);
    ExecEvent e = request();
    e.tgid = pid(rng);
    e.sid = e.tgid;
    e.lineage.clear();
    if (std::find(ancestors.begin(), ancestors.end(), e.tgid) == ancestors.end()) {
      false_positives += inside_tree(requester_tree(e), p).has_value();
    }
  }
  // Expected about 0.005 here; the former 512 bits with 3 hashes gave 36.
  EXPECT_LE(false_positives, 1) << "of " << kTrials;
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

// The kernel's label reaches where pids do not: an agent's process in another session, whose
// recorded ancestry has no pid of the requesting tree.
TEST(ApproverCheck, AClientCarryingAnAgentLabelNeverDecidesAnAgentsRequest) {
  ExecEvent e = request();
  e.agents = 0b01;  // claude
  const RequesterTree t = requester_tree(e);
  Peer p = peer(950, 95, {1});
  p.kernel = Ancestry{};
  p.kernel->tgids = {940, 1};
  p.kernel->agents = 0b10;  // another agent
  const auto why = inside_tree(t, p);
  ASSERT_TRUE(why);
  EXPECT_NE(why->find("agent label 0x2"), std::string::npos) << *why;
  p.kernel->agents = 0;  // a person's shell
  EXPECT_FALSE(inside_tree(t, p));
  p.kernel->agents = std::nullopt;  // label unknown
  EXPECT_TRUE(inside_tree(t, p));
  p.kernel.reset();  // nothing recorded at all
  EXPECT_TRUE(inside_tree(t, p));
}

TEST(ApproverCheck, AnUnknownRequestLabelCountsAsAnAgents) {
  ExecEvent e = request();
  e.flags = CG_EXEC_AGENT_UNKNOWN;
  Peer p = peer(950, 95, {1});
  p.kernel = Ancestry{};
  p.kernel->tgids = {940, 1};
  p.kernel->agents = 0b100;
  EXPECT_TRUE(inside_tree(requester_tree(e), p));
  p.kernel->agents = 0;
  EXPECT_FALSE(inside_tree(requester_tree(e), p));
  // A request from no agent's tree: labels play no part.
  e.flags = 0;
  p.kernel->agents = 0b100;
  EXPECT_FALSE(inside_tree(requester_tree(e), p));
}

}  // namespace
}  // namespace cmdgate
