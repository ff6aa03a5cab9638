// The approval socket's one authorization step, with this test as the client on the other end
// of a socket pair: who may send what, and whether an allow needs its approver to authenticate.

#include "approval/approver_gate.h"

#include <gtest/gtest.h>
#include <sys/socket.h>
#include <unistd.h>

#include "kernel/evaluation_only_port.h"

namespace cmdgate {
namespace {

constexpr uint32_t kElsewhere = 0x3ffffff0;  // a requester whose tree holds nothing of this test

class ApproverGateTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_EQ(::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sockets_), 0);
    PendingRequest r;
    r.event.tgid = kElsewhere;
    r.event.uid = ::getuid();
    id_ = pending_.add(std::move(r));
  }
  void TearDown() override {
    ::close(sockets_[0]);
    ::close(sockets_[1]);
  }

  ApproverGate gate(AuthenticateWhen when = AuthenticateWhen::kNever) const {
    return ApproverGate({proc_, port_, pending_}, std::nullopt, when);
  }
  Caller approver(bool authenticated = false) const { return {sockets_[0], true, authenticated}; }
  Caller stranger() const { return {sockets_[0], false, false}; }
  protocol::ClientMessage decide(protocol::Verdict v, uint64_t id) const {
    protocol::ClientMessage m;
    m.mutable_decide()->set_id(id);
    m.mutable_decide()->set_verdict(v);
    return m;
  }

  int sockets_[2] = {-1, -1};
  SystemProcFs proc_;
  EvaluationOnlyPort port_;
  PendingTable pending_;
  uint64_t id_ = 0;
};

TEST_F(ApproverGateTest, OnlyApproversSubscribeListDecideAndReload) {
  protocol::ClientMessage subscribe;
  subscribe.mutable_subscribe()->set_events(true);
  protocol::ClientMessage list;
  list.mutable_list_pending();
  protocol::ClientMessage reload;
  reload.mutable_reload();
  const std::vector<std::pair<protocol::ClientMessage, std::string>> cases = {
      {subscribe, "subscribe"},
      {list, "list requests"},
      {reload, "reload rules"},
      {decide(protocol::VERDICT_DENY, id_), "decide"},
  };
  for (const auto& [m, what] : cases) {
    const Admission a = gate().admit(stranger(), m);
    EXPECT_EQ(a.refusal, "only root and members of the approver group may " + what);
    EXPECT_EQ(a.refused_decision, what == "decide") << what;
    EXPECT_FALSE(gate().admit(approver(), m).refusal) << what;
  }
}

TEST_F(ApproverGateTest, AnyoneGreetsAsksForStatusAndSubscribesToNothing) {
  protocol::ClientMessage hello;
  hello.mutable_hello();
  protocol::ClientMessage status;
  status.mutable_status();
  protocol::ClientMessage nothing;
  nothing.mutable_subscribe();
  for (const auto& m : {hello, status, nothing}) {
    EXPECT_FALSE(gate().admit(stranger(), m).refusal);
  }
}

TEST_F(ApproverGateTest, AnAllowFromOutsideTheTreeNamesItsApproverAsIdentifiedNow) {
  const Admission a = gate().admit(approver(), decide(protocol::VERDICT_ALLOW, id_));
  ASSERT_FALSE(a.refusal) << *a.refusal;
  ASSERT_TRUE(a.approver);
  EXPECT_EQ(a.approver->pid, static_cast<uint32_t>(::getpid()));
  EXPECT_FALSE(a.authenticate);
}

TEST_F(ApproverGateTest, AnAllowAsksForAPersonWhereThePolicySaysSo) {
  const auto allow = decide(protocol::VERDICT_ALLOW, id_);
  EXPECT_TRUE(gate(AuthenticateWhen::kAlways).admit(approver(), allow).authenticate);
  EXPECT_FALSE(gate(AuthenticateWhen::kAlways).admit(approver(true), allow).authenticate);
  EXPECT_FALSE(gate(AuthenticateWhen::kAlways)
                   .admit(approver(), decide(protocol::VERDICT_DENY, id_))
                   .authenticate);
}

TEST_F(ApproverGateTest, AnAllowOfNothingPendingIsLeftToTheDecisionToRefuse) {
  const Admission a =
      gate(AuthenticateWhen::kAlways).admit(approver(), decide(protocol::VERDICT_ALLOW, id_ + 1));
  EXPECT_FALSE(a.refusal);
  EXPECT_FALSE(a.authenticate);
}

TEST_F(ApproverGateTest, TheRequesterItselfMayNotAllow) {
  PendingRequest mine;
  mine.event.tgid = static_cast<uint32_t>(::getpid());
  mine.event.exec_id = 2;
  const uint64_t id = pending_.add(std::move(mine));
  const Admission a = gate().admit(approver(), decide(protocol::VERDICT_ALLOW, id));
  EXPECT_EQ(a.refusal,
            "refused: the client is the requesting process itself; a process may not approve its "
            "own request");
  EXPECT_TRUE(a.refused_decision);
  EXPECT_FALSE(a.approver);
}

}  // namespace
}  // namespace cmdgate
