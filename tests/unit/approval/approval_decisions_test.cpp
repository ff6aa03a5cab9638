// ApprovalDecisions on a real ExecPipeline (fakes at the kernel's seams) and a real
// PolicyManager (the evaluation-only kernel port): what each verdict does to a parked request.

#include "approval/approval_decisions.h"

#include <gtest/gtest.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <sstream>

#include "approval/approver_gate.h"
#include "kernel/evaluation_only_port.h"
#include "loop/event_loop.h"
#include "pipeline_fakes.h"
#include "processes.h"
#include "rules/file_digest.h"

namespace cmdgate {
namespace {

using namespace std::chrono_literals;

constexpr const char* kRules = R"(
default_action = "allow"
[[rule]]
id = "ask-target"
action = "ask"
path = "/usr/bin/target"
timeout = "60s"
[[rule]]
id = "ask-any-file"
action = "ask"
args = "^--any-file$"
timeout = "60s"
)";

// No such process: a permanent approval cannot find its file through it.
constexpr uint32_t kGone = 0x3ffffff0;
constexpr uint32_t kMaxMinutes = 60;

class ApprovalDecisionsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/cmdgate-decisions.XXXXXX";
    ASSERT_NE(::mkdtemp(tmpl), nullptr);
    dir_ = tmpl;
    std::ofstream(dir_ + "/10-ask.toml") << kRules;
    local_ = dir_ + "/90-approved.toml";
    std::ofstream(local_) << "# approvals\n";
    loop_ = std::move(EventLoop::create().value());
    store_ = std::make_unique<PolicyStore>(PolicySource{{dir_}, std::nullopt, std::nullopt}, names_,
                                           files_);
    policy_ = std::make_unique<PolicyManager>(*store_, port_, *loop_);
    ASSERT_TRUE(policy_->start());
    f_ = std::make_unique<test::PipelineOnFakes>(*store_);
    decisions_ = writing_to(local_);
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }

  std::unique_ptr<ApprovalDecisions> writing_to(const std::string& local_rules_file) {
    return std::make_unique<ApprovalDecisions>(
        DecisionSettings{local_rules_file, kMaxMinutes},
        DecisionDeps{f_->pipeline, *policy_, f_->clock, f_->proc});
  }

  // Has the pipeline park e; the id of its request.
  uint64_t park(const ExecEvent& e) {
    f_->pipeline.on_exec(e);
    for (const PendingRequest* p : pending().list()) {
      if (p->event.exec_id == e.exec_id) {
        return p->id;
      }
    }
    ADD_FAILURE() << "exec " << e.exec_id << " was not parked";
    return 0;
  }
  uint64_t park(uint32_t tgid, std::vector<std::string> argv) {
    return park(f_->parked_exec(tgid, std::move(argv)));
  }
  const PendingTable& pending() const { return f_->pipeline.pending(); }

  static DecideRequest verdict(protocol::Verdict v, uint64_t id,
                               protocol::Scope scope = protocol::SCOPE_ONCE, uint32_t minutes = 0) {
    return {.id = id,
            .verdict = v,
            .scope = scope,
            .minutes = minutes,
            .approver = {0, 4242, "/usr/bin/cmdgate"}};
  }
  template <typename... Args>
  static DecideRequest allow(Args... args) {
    return verdict(protocol::VERDICT_ALLOW, args...);
  }
  template <typename... Args>
  static DecideRequest deny(Args... args) {
    return verdict(protocol::VERDICT_DENY, args...);
  }
  static std::string error_of(const DecideAnswer& a) {
    const Error* e = std::get_if<Error>(&a);
    return e != nullptr ? e->message : "(no error)";
  }

  std::string local_text() const { return test::read_file(local_); }
  // Runs the loop until a reload has finished; its result.
  std::optional<Status> await_reload() {
    std::optional<Status> done;
    policy_->on_reload_end([&](const Status& st) {
      done = st;
      loop_->stop();
    });
    const auto guard = loop_->at(std::chrono::steady_clock::now() + 10s, [&] { loop_->stop(); });
    loop_->run();
    loop_->cancel(guard);
    return done;
  }

  std::string dir_;
  std::string local_;
  test::FakeFiles files_;
  test::NoNames names_;
  EvaluationOnlyPort port_;
  std::unique_ptr<EventLoop> loop_;
  std::unique_ptr<PolicyStore> store_;
  std::unique_ptr<PolicyManager> policy_;
  std::unique_ptr<test::PipelineOnFakes> f_;
  std::unique_ptr<ApprovalDecisions> decisions_;
};

std::string not_pending(uint64_t id) {
  return fmt::format("request {} is not pending (decided, timed out or gone)", id);
}

TEST_F(ApprovalDecisionsTest, ApprovingOnceResumesExactlyOnceAndASecondDecisionIsRefused) {
  const uint64_t id = park(kGone, {"target", "--once"});
  DecideAnswer a = decisions_->decide(allow(id));
  ASSERT_TRUE(std::holds_alternative<Decided>(a)) << error_of(a);
  const Decided& d = std::get<Decided>(a);
  EXPECT_EQ(d.id, id);
  EXPECT_EQ(d.outcome, Outcome::kAllowed);
  EXPECT_EQ(d.request.id(), id);  // shown as it was while pending
  EXPECT_EQ(d.request.argv(1), "--once");
  EXPECT_EQ(f_->control.actions, std::vector<std::string>{fmt::format("resume {}", kGone)});
  EXPECT_EQ(f_->last_line()["decided_by"], "approver");
  EXPECT_EQ(f_->last_line()["approver"]["pid"], 4242);

  EXPECT_EQ(error_of(decisions_->decide(allow(id))), not_pending(id));
  EXPECT_EQ(error_of(decisions_->decide(deny(id))), not_pending(id));
  EXPECT_EQ(f_->control.actions.size(), 1u);
}

TEST_F(ApprovalDecisionsTest, DenyingKillsAndTakesNoScope) {
  const uint64_t id = park(kGone, {"target", "--no"});
  DecideAnswer a = decisions_->decide(deny(id, protocol::SCOPE_PERMANENT));
  ASSERT_TRUE(std::holds_alternative<Decided>(a)) << error_of(a);
  EXPECT_EQ(std::get<Decided>(a).outcome, Outcome::kDenied);
  EXPECT_EQ(f_->control.actions, std::vector<std::string>{fmt::format("kill {}", kGone)});
  EXPECT_EQ(local_text(), "# approvals\n");
  EXPECT_EQ(f_->pipeline.grants().size(), 0u);
}

TEST_F(ApprovalDecisionsTest, AnUnknownIdOrAMissingVerdictIsRefusedAndChangesNothing) {
  const uint64_t id = park(kGone, {"target", "--wait"});
  EXPECT_EQ(error_of(decisions_->decide(allow(id + 1))), not_pending(id + 1));
  EXPECT_EQ(decisions_->check(deny(id + 1)).error().message, not_pending(id + 1));
  DecideRequest no_verdict = allow(id);
  no_verdict.verdict = protocol::VERDICT_UNSPECIFIED;
  EXPECT_EQ(error_of(decisions_->decide(no_verdict)), "decide needs a verdict: allow or deny");
  EXPECT_TRUE(f_->control.actions.empty());
  EXPECT_NE(pending().find(id), nullptr);
}

// Grants read the working directory of the process for real: the requester is this test.
TEST_F(ApprovalDecisionsTest, SimilarLetsTheSameCommandOfTheSameUserInTheSamePlaceRun) {
  const uint32_t self = static_cast<uint32_t>(::getpid());
  f_->proc.links[{self, "cwd"}] = "/srv/app";
  const uint64_t id = park(self, {"target", "--similar"});
  DecideAnswer a = decisions_->decide(allow(id, protocol::SCOPE_SIMILAR, 5u));
  ASSERT_TRUE(std::holds_alternative<Decided>(a)) << error_of(a);
  EXPECT_EQ(f_->pipeline.grants().size(), 1u);

  f_->pipeline.on_exec(f_->parked_exec(self, {"target", "--similar"}));
  EXPECT_EQ(f_->last_line()["decided_by"], "grant");
  EXPECT_EQ(f_->control.actions.size(), 2u);
  EXPECT_EQ(pending().size(), 0u);

  const auto asked = [&](const ExecEvent& e) {
    const size_t before = pending().size();
    f_->pipeline.on_exec(e);
    return pending().size() == before + 1;
  };
  EXPECT_TRUE(asked(f_->parked_exec(self, {"target", "--similar", "x"})));
  ExecEvent other_user = f_->parked_exec(self, {"target", "--similar"});
  other_user.uid = 1000;
  EXPECT_TRUE(asked(other_user));
  ExecEvent rewritten = f_->parked_exec(self, {"target", "--similar"});
  rewritten.ctime_sec = 99;  // the same file, written to since
  EXPECT_TRUE(asked(rewritten));
  f_->proc.links[{self, "cwd"}] = "/srv/other";
  EXPECT_TRUE(asked(f_->parked_exec(self, {"target", "--similar"})));
  f_->proc.links[{self, "cwd"}] = "/srv/app";
  f_->clock.now += std::chrono::nanoseconds(4min).count();
  EXPECT_FALSE(asked(f_->parked_exec(self, {"target", "--similar"})));
  f_->clock.now += std::chrono::nanoseconds(2min).count();  // the 5 minutes are over
  EXPECT_TRUE(asked(f_->parked_exec(self, {"target", "--similar"})));
  EXPECT_EQ(f_->control.actions.size(), 3u);
}

TEST_F(ApprovalDecisionsTest, SimilarNeedsMinutesInRangeAndACommandToldApart) {
  const uint64_t id = park(kGone, {"target", "--similar"});  // its working directory is unknown
  for (uint32_t minutes : {0u, kMaxMinutes + 1}) {
    EXPECT_EQ(decisions_->check(allow(id, protocol::SCOPE_SIMILAR, minutes)).error().message,
              "minutes must be 1..60");
  }
  EXPECT_EQ(error_of(decisions_->decide(allow(id, protocol::SCOPE_SIMILAR, 5u))),
            "a 'similar' approval needs the exact command, and its working directory is unknown: "
            "no link: approve once");
  EXPECT_TRUE(f_->control.actions.empty());
  EXPECT_TRUE(std::holds_alternative<Decided>(decisions_->decide(allow(id))));
}

TEST_F(ApprovalDecisionsTest, PermanentWritesARulePinnedBySha256AndReloads) {
  rules::Sha256 digest{};
  digest.fill(0xab);
  f_->files.exe_sha256 = digest;  // established while judging the exec
  const uint64_t id = park(kGone, {"target", "--keep"});
  DecideAnswer a = decisions_->decide(allow(id, protocol::SCOPE_PERMANENT));
  ASSERT_TRUE(std::holds_alternative<Decided>(a)) << error_of(a);
  EXPECT_EQ(f_->control.actions, std::vector<std::string>{fmt::format("resume {}", kGone)});
  const std::string text = local_text();
  EXPECT_NE(text.find("sha256 = '" + rules::to_hex(digest) + "'"), std::string::npos) << text;
  EXPECT_NE(text.find("path = '/usr/bin/target'"), std::string::npos) << text;
  EXPECT_NE(text.find("approved permanently by uid 0 (pid 4242, /usr/bin/cmdgate)"),
            std::string::npos)
      << text;

  EXPECT_TRUE(policy_->busy());  // reloading already, not only once the file is seen to change
  const auto reloaded = await_reload();
  ASSERT_TRUE(reloaded && *reloaded);
  EXPECT_EQ(store_->current()->generation, 2u);
  EXPECT_EQ(port_.published_generation(), 2u);
  // The rule is in force for that content only.
  f_->pipeline.on_exec(f_->parked_exec(kGone, {"target", "--keep"}));
  EXPECT_EQ(pending().size(), 0u);
  EXPECT_TRUE(f_->last_line()["rule"].get<std::string>().starts_with("approved-"));
  f_->files.exe_sha256->fill(0xcd);
  f_->pipeline.on_exec(f_->parked_exec(kGone, {"target", "--keep"}));
  EXPECT_EQ(pending().size(), 1u);
}

TEST_F(ApprovalDecisionsTest, PermanentIsRefusedWithoutALocalRulesFileTheDaemonLoads) {
  f_->files.exe_sha256 = rules::Sha256{};
  const uint64_t id = park(kGone, {"target", "--keep"});
  const std::string refusal =
      "permanent approvals need [approval] local_rules_file set to a file the daemon loads rules "
      "from";
  const std::string not_loaded = dir_ + "/approved.txt";
  for (const std::string& file : {std::string(), not_loaded}) {
    decisions_ = writing_to(file);
    EXPECT_EQ(decisions_->check(allow(id, protocol::SCOPE_PERMANENT)).error().message, refusal);
    EXPECT_EQ(error_of(decisions_->decide(allow(id, protocol::SCOPE_PERMANENT))), refusal);
  }
  EXPECT_FALSE(std::filesystem::exists(not_loaded));
  EXPECT_TRUE(f_->control.actions.empty());
  EXPECT_NE(pending().find(id), nullptr);
  EXPECT_FALSE(policy_->busy());
}

TEST_F(ApprovalDecisionsTest, PermanentHashesTheFileThroughTheParkedProcessFirst) {
  const uint64_t gone = park(kGone, {"target", "--keep"});
  const std::string unreadable =
      error_of(decisions_->decide(allow(gone, protocol::SCOPE_PERMANENT)));
  EXPECT_TRUE(unreadable.starts_with(
      "a permanent approval pins the SHA-256 of /usr/bin/target, which cannot be read: "))
      << unreadable;
  EXPECT_TRUE(unreadable.ends_with("; approve once or for a while instead")) << unreadable;
  EXPECT_NE(pending().find(gone), nullptr);

  // This test runs the file: it can be opened through its /proc/PID/exe.
  struct stat st {};
  ASSERT_EQ(::stat("/proc/self/exe", &st), 0);
  ExecEvent e = f_->parked_exec(static_cast<uint32_t>(::getpid()), {"target", "--any-file"});
  e.file = {st.st_dev, st.st_ino};
  const uint64_t id = park(e);
  DecideRequest r = allow(id, protocol::SCOPE_PERMANENT);
  DecideAnswer a = decisions_->decide(r);
  ASSERT_TRUE(std::holds_alternative<NeedsDigest>(a)) << error_of(a);
  EXPECT_EQ(std::get<NeedsDigest>(a).file.id, e.file);
  EXPECT_EQ(local_text(), "# approvals\n");
  EXPECT_TRUE(f_->control.actions.empty());

  r.hashed.emplace();
  r.hashed->fill(0x5a);
  a = decisions_->decide(r);
  ASSERT_TRUE(std::holds_alternative<Decided>(a)) << error_of(a);
  EXPECT_NE(local_text().find(rules::to_hex(*r.hashed)), std::string::npos);
}

TEST_F(ApprovalDecisionsTest, ARefusedAuthorizationLeavesTheRequestParked) {
  const uint32_t self = static_cast<uint32_t>(::getpid());
  const uint64_t id = park(self, {"target", "--mine"});  // requested by this very process
  int sv[2];
  ASSERT_EQ(::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv), 0);
  SystemProcFs proc;
  const ApproverGate gate({proc, port_, pending()}, std::nullopt, AuthenticateWhen::kNever);
  protocol::ClientMessage m;
  m.mutable_decide()->set_id(id);
  m.mutable_decide()->set_verdict(protocol::VERDICT_ALLOW);

  const Admission stranger = gate.admit({sv[0], false, false}, m);
  EXPECT_EQ(stranger.refusal, "only root and members of the approver group may decide");
  EXPECT_TRUE(stranger.refused_decision);
  const Admission itself = gate.admit({sv[0], true, false}, m);
  EXPECT_EQ(itself.refusal,
            "refused: the client is the requesting process itself; a process may not approve its "
            "own request");
  EXPECT_TRUE(itself.refused_decision);
  EXPECT_TRUE(f_->control.actions.empty());
  EXPECT_NE(pending().find(id), nullptr);

  // Refusing one's own command is harmless: admitted, and it kills.
  m.mutable_decide()->set_verdict(protocol::VERDICT_DENY);
  EXPECT_FALSE(gate.admit({sv[0], true, false}, m).refusal);
  EXPECT_TRUE(std::holds_alternative<Decided>(decisions_->decide(deny(id))));
  EXPECT_EQ(f_->control.actions, std::vector<std::string>{fmt::format("kill {}", self)});
  ::close(sv[0]);
  ::close(sv[1]);
}

}  // namespace
}  // namespace cmdgate
