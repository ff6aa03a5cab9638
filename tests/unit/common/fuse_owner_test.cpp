#include "common/fuse_owner.h"

#include <gtest/gtest.h>

namespace cmdgate {
namespace {

constexpr std::string_view kMountinfo =
    "22 1 254:0 / / rw,relatime shared:1 - ext4 /dev/vda rw\n"
    "40 22 0:52 / /home/ann/mnt rw,nosuid,nodev shared:20 - fuse.sshfs host: "
    "rw,user_id=1000,group_id=1000\n"
    "41 22 0:53 / /media/shared rw,nosuid,nodev - fuse /dev/fuse "
    "rw,user_id=1001,group_id=1001,allow_other\n"
    "42 22 0:54 / /srv/with\\040space rw - fuse.bindfs src rw,user_id=7,group_id=8\n"
    "43 40 0:55 / /home/ann/mnt/inner rw - tmpfs tmpfs rw\n";

TEST(FuseOwner, TheLongestFuseMountWithoutAllowOtherOwnsThePath) {
  auto o = fuse_owner_of(kMountinfo, "/home/ann/mnt/bin/tool");
  ASSERT_TRUE(o);
  EXPECT_EQ(o->mount_point, "/home/ann/mnt");
  EXPECT_EQ(o->uid, 1000u);
  EXPECT_EQ(o->gid, 1000u);
  EXPECT_TRUE(fuse_owner_of(kMountinfo, "/home/ann/mnt"));
}

TEST(FuseOwner, EscapedMountPointsAreMatchedUnescaped) {
  auto o = fuse_owner_of(kMountinfo, "/srv/with space/x");
  ASSERT_TRUE(o);
  EXPECT_EQ(o->uid, 7u);
  EXPECT_EQ(o->gid, 8u);
}

TEST(FuseOwner, NoOwnerForOtherMountsAllowOtherOrAPrefixThatIsNotADirectory) {
  EXPECT_FALSE(fuse_owner_of(kMountinfo, "/usr/bin/ls"));
  EXPECT_FALSE(fuse_owner_of(kMountinfo, "/media/shared/x"));   // everyone may use it
  EXPECT_FALSE(fuse_owner_of(kMountinfo, "/home/ann/mnt/inner/x"));  // a mount inside it
  EXPECT_FALSE(fuse_owner_of(kMountinfo, "/home/ann/mntx/y"));
}

}  // namespace
}  // namespace cmdgate
