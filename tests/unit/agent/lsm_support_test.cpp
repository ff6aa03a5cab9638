#include "probe/lsm_support.h"

#include <gtest/gtest.h>

namespace cmdgate::probe {
namespace {

TEST(LsmSupport, FindsBpfAnywhereInTheList) {
  EXPECT_TRUE(lsm_list_has("lockdown,capability,landlock,bpf", "bpf"));
  EXPECT_TRUE(lsm_list_has("bpf,lockdown", "bpf"));
  EXPECT_TRUE(lsm_list_has("bpf", "bpf"));
}

TEST(LsmSupport, NamesMustMatchWhole) {
  EXPECT_FALSE(lsm_list_has("lockdown,capability,landlock,yama", "bpf"));
  EXPECT_FALSE(lsm_list_has("bpfx,xbpf", "bpf"));
  EXPECT_FALSE(lsm_list_has("", "bpf"));
  EXPECT_FALSE(lsm_list_has("capability,", "bpf"));
}

}  // namespace
}  // namespace cmdgate::probe
