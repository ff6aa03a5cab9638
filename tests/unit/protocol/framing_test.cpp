#include "protocol/framing.h"

#include <gtest/gtest.h>

#include <random>

#include "cmdgate.pb.h"

namespace cmdgate::protocol {
namespace {

TEST(Framing, RoundTripsInAnySplit) {
  ClientMessage m;
  m.set_request_id(42);
  m.mutable_hello()->set_protocol_version(kProtocolVersion);
  m.mutable_hello()->set_client("test");
  const std::string frames = encode_frame(m) + encode_frame(m);
  for (size_t split = 0; split <= frames.size(); ++split) {
    FrameDecoder d;
    d.feed(std::string_view(frames).substr(0, split));
    d.feed(std::string_view(frames).substr(split));
    for (int i = 0; i < 2; ++i) {
      auto f = d.next();
      ASSERT_TRUE(f.ok());
      ASSERT_TRUE(f->has_value()) << split;
      ClientMessage back;
      ASSERT_TRUE(back.ParseFromString(**f));
      EXPECT_EQ(back.request_id(), 42u);
    }
    EXPECT_EQ(d.buffered(), 0u);
  }
}

TEST(Framing, OversizedFramesAreRefusedFromTheHeader) {
  FrameDecoder d;
  d.feed(std::string("\x01\x00\x00\x00", 4));  // 16 MiB declared
  auto f = d.next();
  ASSERT_FALSE(f.ok());
  EXPECT_NE(f.error().message.find("exceeds"), std::string::npos);
}

TEST(Framing, PartialFramesWait) {
  FrameDecoder d;
  d.feed(std::string("\x00\x00\x00\x05hel", 7));
  auto f = d.next();
  ASSERT_TRUE(f.ok());
  EXPECT_FALSE(f->has_value());
  d.feed("lo");
  f = d.next();
  ASSERT_TRUE(f.ok() && f->has_value());
  EXPECT_EQ(**f, "hello");
}

}  // namespace
}  // namespace cmdgate::protocol
