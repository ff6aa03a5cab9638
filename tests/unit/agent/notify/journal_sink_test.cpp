#include "notify/journal_sink.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <syslog.h>

#include "log/decision_record.h"
#include "rules/model.h"

namespace cmdgate {
namespace {

using ::testing::Contains;
using ::testing::Each;
using ::testing::Not;
using ::testing::HasSubstr;

struct Fixture {
  rules::Rule rule;
  Judgement judgement;
  ExecEvent event;
  DecisionRecord record;

  Fixture() {
    rule.id = "no-force-push";
    judgement.decision.action = rules::Action::kDeny;
    judgement.decision.rule = &rule;
    event.tgid = 4242;
    event.uid = 1000;
    event.path = "/usr/bin/git";
    event.argv = {"git", "push", "--force", "\x1b[2Korigin"};
    record.event = &event;
    record.judgement = &judgement;
    record.outcome = Outcome::kDenied;
  }
};

TEST(JournalSink, ADenialIsAWarningNamingRuleCommandAndPid) {
  Fixture f;
  const std::vector<std::string> fields = JournalSink::fields(f.record);
  EXPECT_THAT(fields, Contains(fmt::format("PRIORITY={}", LOG_WARNING)));
  EXPECT_THAT(fields, Contains("CMDGATE_RULE=no-force-push"));
  EXPECT_THAT(fields, Contains("CMDGATE_PID=4242"));
  EXPECT_THAT(fields, Contains("CMDGATE_UID=1000"));
  EXPECT_THAT(fields, Contains("CMDGATE_EXE=/usr/bin/git"));
  EXPECT_THAT(fields, Contains(HasSubstr("MESSAGE=cmdgate: denied git push --force")));
}

TEST(JournalSink, EscapeSequencesInArgvAreShownNotSent) {
  Fixture f;
  const std::vector<std::string> fields = JournalSink::fields(f.record);
  ASSERT_FALSE(fields.empty());
  EXPECT_THAT(fields, Each(Not(HasSubstr("\x1b"))));
  EXPECT_THAT(fields, Contains(HasSubstr("\\x1b[2Korigin")));
}

TEST(JournalSink, AHoldIsANoticeWithItsRequest) {
  Fixture f;
  f.judgement.decision.action = rules::Action::kAsk;
  f.record.outcome = Outcome::kParked;
  f.record.request_id = 17;
  const std::vector<std::string> fields = JournalSink::fields(f.record);
  EXPECT_THAT(fields, Contains(fmt::format("PRIORITY={}", LOG_NOTICE)));
  EXPECT_THAT(fields, Contains("CMDGATE_REQUEST=17"));
}

TEST(JournalSink, AllowedExecsStayInTheDecisionLogOnly) {
  Fixture f;
  f.judgement.decision.action = rules::Action::kAllow;
  f.record.outcome = Outcome::kAllowed;
  EXPECT_TRUE(JournalSink::fields(f.record).empty());
  f.record.decided_by = DecidedBy::kApprover;  // but a person's allow is journaled
  EXPECT_FALSE(JournalSink::fields(f.record).empty());
}

}  // namespace
}  // namespace cmdgate
