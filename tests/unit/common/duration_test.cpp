#include "common/duration.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

namespace cmdgate {
namespace {

using std::chrono::milliseconds;
using ::testing::HasSubstr;

milliseconds ok(std::string_view text) {
  auto d = parse_duration(text);
  EXPECT_TRUE(d.ok()) << text << ": " << (d.ok() ? "" : d.error().message);
  return d.ok() ? *d : milliseconds(-1);
}

std::string error(std::string_view text) {
  auto d = parse_duration(text);
  EXPECT_FALSE(d.ok()) << text << " parsed as " << (d.ok() ? d->count() : 0) << "ms";
  return d.ok() ? "" : d.error().message;
}

TEST(Duration, EveryUnit) {
  EXPECT_EQ(ok("500ms"), milliseconds(500));
  EXPECT_EQ(ok("30s"), milliseconds(30'000));
  EXPECT_EQ(ok("2m"), milliseconds(120'000));
  EXPECT_EQ(ok("1h"), milliseconds(3'600'000));
  EXPECT_EQ(ok("1ms"), milliseconds(1));
  EXPECT_EQ(ok("007s"), milliseconds(7'000));
}

TEST(Duration, UpperBoundIsExactly24Hours) {
  EXPECT_EQ(ok("24h"), milliseconds(86'400'000));
  EXPECT_EQ(ok("1440m"), milliseconds(86'400'000));
  EXPECT_EQ(ok("86400s"), milliseconds(86'400'000));
  EXPECT_EQ(ok("86400000ms"), milliseconds(86'400'000));
  EXPECT_EQ(error("25h"), "duration '25h' is longer than the maximum of 24h");
  EXPECT_THAT(error("1441m"), HasSubstr("longer than the maximum"));
  EXPECT_THAT(error("86401s"), HasSubstr("longer than the maximum"));
  EXPECT_THAT(error("86400001ms"), HasSubstr("longer than the maximum"));
  // Would overflow 64 bits if accumulated naively.
  EXPECT_THAT(error("99999999999999999999999999h"), HasSubstr("longer than the maximum"));
}

TEST(Duration, ZeroIsRejected) {
  EXPECT_EQ(error("0s"), "duration '0s' must be greater than zero");
  EXPECT_THAT(error("0ms"), HasSubstr("greater than zero"));
  EXPECT_THAT(error("000h"), HasSubstr("greater than zero"));
}

TEST(Duration, MalformedIsRejected) {
  EXPECT_EQ(error("10"),
            "invalid duration '10': expected an integer followed by one of the units ms, s, m, h "
            "(e.g. \"30s\")");
  for (const char* text : {"", "s", "ms", "-5s", "+5s", "1.5s", "5 s", " 5s", "5s ", "5S", "5sec",
                           "5us", "1h30m", "5d", "0x10s", "5mss"}) {
    EXPECT_THAT(error(text), HasSubstr("invalid duration")) << text;
  }
}

}  // namespace
}  // namespace cmdgate
