#include "kernel/proc_parse.h"

#include <gtest/gtest.h>

namespace cmdgate {
namespace {

constexpr std::string_view kStatus =
    "Name:\tbash\nUmask:\t0022\nState:\tS (sleeping)\nTgid:\t4242\nPPid:\t4100\n"
    "Uid:\t1000\t1001\t1002\t1003\nGid:\t100\t101\t102\t103\nGroups:\t4 24 27 999 \n"
    "NSpid:\t4242\n";

TEST(ProcParse, StatusColumns) {
  EXPECT_EQ(status_field(kStatus, "PPid:"), 4100u);
  EXPECT_EQ(status_field(kStatus, "Uid:", 0), 1000u);
  EXPECT_EQ(status_field(kStatus, "Uid:", 1), 1001u);
  EXPECT_EQ(status_field(kStatus, "Gid:", 3), 103u);
  EXPECT_EQ(status_field(kStatus, "Gid:", 4), 0u);  // no such column
  EXPECT_EQ(status_field(kStatus, "Name:"), 0u);    // not a number
  EXPECT_EQ(status_field(kStatus, "Seccomp:"), 0u);
}

TEST(ProcParse, KeysMatchOnlyAtTheStartOfALine) {
  // "Pid:" also ends "PPid:" and "TracerPid:"; only a line that starts with it counts.
  EXPECT_EQ(status_field("PPid:\t7\nTracerPid:\t0\nPid:\t9\n", "Pid:"), 9u);
  EXPECT_EQ(status_field("Pid:\t9\n", "Pid:"), 9u);
}

TEST(ProcParse, Groups) {
  EXPECT_EQ(status_groups(kStatus), (std::vector<uint32_t>{4, 24, 27, 999}));
  EXPECT_TRUE(status_groups("Groups:\t\nNSpid:\t1\n").empty());
  EXPECT_TRUE(status_groups("Name:\tx\n").empty());
}

TEST(ProcParse, StatSurvivesACommWithSpacesAndParentheses) {
  auto s = parse_stat("4242 (a) b (c)) T 4100 4242 4000 34816 4242 4194560 0 0");
  ASSERT_TRUE(s);
  EXPECT_EQ(s->state, 'T');
  EXPECT_EQ(s->ppid, 4100u);
  EXPECT_EQ(s->pgrp, 4242u);
  EXPECT_EQ(s->session, 4000u);
  EXPECT_EQ(s->tty_nr, 34816);
}

TEST(ProcParse, TruncatedStatIsRefused) {
  EXPECT_FALSE(parse_stat(""));
  EXPECT_FALSE(parse_stat("4242 (bash"));
  EXPECT_FALSE(parse_stat("4242 (bash) S 1"));
}

}  // namespace
}  // namespace cmdgate
