#pragma once
// A FUSE mount made without allow_other refuses every process whose uids and gids are not all
// the mounter's, root included (EACCES). Rules may still name files there: their identity is
// learned by stat() as the mounter, in a child process, so that the daemon keeps its own
// credentials. The FUSE server picks the inode number it reports, but the device is the mount's
// own: the identity can name no file outside that mount.

#include <sys/stat.h>
#include <sys/types.h>

#include <chrono>
#include <optional>
#include <string>
#include <string_view>

namespace cmdgate {

struct FuseOwner {
  std::string mount_point;
  uid_t uid = 0;
  gid_t gid = 0;
};

// The FUSE mount (from /proc/self/mountinfo text) whose mount point is the longest prefix of
// the absolute path `path`, when it was made without allow_other; the path is taken as written
// (symbolic links that lead into the mount are not followed).
[[nodiscard]] std::optional<FuseOwner> fuse_owner_of(std::string_view mountinfo,
                                                     std::string_view path);

// stat(path) as the owner of the FUSE mount holding it; nullopt when the path is on no such
// mount, when that stat fails too, or when it does not answer within timeout (a FUSE server
// may never answer).
[[nodiscard]] std::optional<struct stat> stat_as_fuse_owner(
    const std::string& path, std::chrono::milliseconds timeout = std::chrono::seconds(2));

}  // namespace cmdgate
