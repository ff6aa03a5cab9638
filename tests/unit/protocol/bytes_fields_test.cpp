// Text a monitored process chose may be any bytes: a message carrying it must parse, or one
// request would hide every other one listed with it.

#include <gtest/gtest.h>

#include "cmdgate.pb.h"

namespace cmdgate::protocol {
namespace {

TEST(BytesFields, AListWithArgumentsThatAreNotUtf8ParsesWhole) {
  ServerMessage m;
  auto* hostile = m.mutable_pending()->add_requests();
  hostile->set_id(1);
  hostile->add_argv("\xff\xfe");
  hostile->add_argv("\xed\xa0\x80");  // a surrogate
  hostile->set_cwd("/tmp/\xc0\xaf");  // an overlong '/'
  hostile->set_exe("/bin/\x80");
  hostile->set_user("\xfe");
  auto* parent = hostile->add_lineage();
  parent->set_comm("\xff");
  parent->set_exe("/usr/bin/\xff");
  m.mutable_pending()->add_requests()->set_id(2);

  ServerMessage back;
  ASSERT_TRUE(back.ParseFromString(m.SerializeAsString()));
  ASSERT_EQ(back.pending().requests_size(), 2);
  EXPECT_EQ(back.pending().requests(0).argv(0), "\xff\xfe");
  EXPECT_EQ(back.pending().requests(0).argv(1), "\xed\xa0\x80");
  EXPECT_EQ(back.pending().requests(0).cwd(), "/tmp/\xc0\xaf");
  EXPECT_EQ(back.pending().requests(0).lineage(0).exe(), "/usr/bin/\xff");
  EXPECT_EQ(back.pending().requests(1).id(), 2u);
}

TEST(BytesFields, EventsStatusAndErrorsCarryAnyBytes) {
  ServerMessage event;
  event.mutable_event()->add_argv("\xff");
  event.mutable_event()->set_exe("\xfe");
  ServerMessage status;
  status.mutable_status()->add_rule_sources("/etc/cmdgate/rules.d/\xff.toml");
  status.mutable_status()->set_last_reload_error("\xff");
  ServerMessage error;
  error.mutable_error()->set_message("\xff");
  for (const ServerMessage* m : {&event, &status, &error}) {
    ServerMessage back;
    EXPECT_TRUE(back.ParseFromString(m->SerializeAsString())) << m->body_case();
  }
}

}  // namespace
}  // namespace cmdgate::protocol
