#include "context/process_paths.h"

#include <fcntl.h>
#include <linux/openat2.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <sys/vfs.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <climits>
#include <charconv>
#include <cstring>

#include "common/errno_error.h"

namespace cmdgate {
namespace {

constexpr std::string_view kDeleted = " (deleted)";

// Only from the dentry cache, never through a magic link, never above the process's root.
// O_PATH: nothing of the file system's own open runs (a FUSE server is not asked). The kernel
// has just resolved an exec'd script's path, so its components are cached; a path nobody has
// resolved lately (a loader's program) may not be, and is then unknown rather than waited for.
Result<Fd> open_in(int dirfd, const std::string& path, bool cached_only) {
  open_how how{};
  how.flags = O_PATH | O_CLOEXEC;
  how.resolve = RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS | (cached_only ? RESOLVE_CACHED : 0);
  const int fd = static_cast<int>(::syscall(SYS_openat2, dirfd, path.c_str(), &how, sizeof(how)));
  if (fd < 0) {
    const int err = errno;
    Error e = err == EAGAIN ? Error::format("{}: not in the kernel's lookup cache", path)
                            : errno_error(path, err);
    errno = err;  // callers tell "missing" from "unknown" by it
    return e;
  }
  return Fd(fd);
}

Result<Fd> open_cached(int dirfd, const std::string& path) { return open_in(dirfd, path, true); }

// File systems whose reads and lookups wait on nothing but local storage.
bool local_type(std::string_view type) {
  static constexpr std::array<std::string_view, 31> kLocal = {
      "ext4",  "ext3",  "ext2",    "xfs",   "btrfs", "tmpfs",    "overlay", "squashfs",
      "vfat",  "f2fs",  "erofs",   "iso9660", "ramfs", "bcachefs", "proc",    "sysfs",
      "devtmpfs", "cgroup2", "cgroup", "bpf", "securityfs", "tracefs", "debugfs", "mqueue",
      "devpts", "hugetlbfs", "pstore", "configfs", "efivarfs", "nsfs", "binfmt_misc"};
  return std::find(kLocal.begin(), kLocal.end(), type) != kLocal.end();
}

bool missing_errno(int err) { return err == ENOENT || err == ENOTDIR; }

// statx from the attribute cache: a FUSE server is not asked here either.
Result<struct stat> cached_stat(int fd) {
  struct statx sx {};
  if (::statx(fd, "", AT_EMPTY_PATH | AT_STATX_DONT_SYNC, STATX_TYPE | STATX_INO, &sx) != 0) {
    return errno_error("statx");
  }
  struct stat st {};
  st.st_dev = makedev(sx.stx_dev_major, sx.stx_dev_minor);
  st.st_ino = sx.stx_ino;
  st.st_mode = sx.stx_mode;
  return st;
}

// "/dev/fd/3/rest" -> (3, "rest"); "/proc/self/fd/3" -> (3, "").
std::optional<std::pair<int, std::string>> descriptor_in(std::string_view path,
                                                         std::string_view prefix) {
  if (!path.starts_with(prefix)) {
    return std::nullopt;
  }
  std::string_view rest = path.substr(prefix.size());
  int fd = -1;
  auto [end, ec] = std::from_chars(rest.data(), rest.data() + rest.size(), fd);
  if (ec != std::errc() || fd < 0) {
    return std::nullopt;
  }
  rest.remove_prefix(static_cast<size_t>(end - rest.data()));
  if (!rest.empty() && rest.front() != '/') {
    return std::nullopt;
  }
  while (!rest.empty() && rest.front() == '/') {
    rest.remove_prefix(1);
  }
  return std::make_pair(fd, std::string(rest));
}

// Whether `name` under the process's root is what the kernel provides: /proc a procfs, /dev/fd
// the usual link into it. A chroot can have its own /dev/fd, which the interpreter would open.
bool kernel_provided(int root, std::string_view name) {
  if (name == "/proc") {
    auto fd = open_cached(root, "/proc");
    struct statfs fs {};
    return fd && ::fstatfs(fd->get(), &fs) == 0 && fs.f_type == 0x9fa0;  // PROC_SUPER_MAGIC
  }
  auto dev = open_cached(root, "/dev");
  char target[32] = {};
  return dev && ::readlinkat(dev->get(), "fd", target, sizeof(target) - 1) > 0 &&
         std::string_view(target) == "/proc/self/fd" && kernel_provided(root, "/proc");
}

}  // namespace

Resolution ProcessPaths::resolve(uint32_t tgid, std::string_view named) const {
  if (named.empty()) {
    return Unresolved{true, "no path"};
  }
  const std::string proc = fmt::format("/proc/{}", tgid);
  Fd root(::open((proc + "/root").c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC));
  if (!root) {
    return Unresolved{false, errno_error("its root").message};
  }
  std::string path(named);
  if (path.front() != '/') {
    // Its working directory as a path inside its root: the kernel's text for both, relative to
    // the same mount namespace root.
    auto cwd = proc_.read_link(tgid, "cwd");
    auto top = proc_.read_link(tgid, "root");
    if (!cwd || !top || cwd->ends_with(kDeleted)) {
      return Unresolved{false, "its working directory is unknown"};
    }
    std::string_view inside = *cwd;
    if (*top != "/") {
      if (!inside.starts_with(*top) || (inside.size() > top->size() && inside[top->size()] != '/')) {
        return Unresolved{false, "its working directory lies outside its root"};
      }
      inside.remove_prefix(top->size());
    }
    path = fmt::format("{}/{}", inside, named);
  }
  if (auto own = own_descriptor(tgid, root, path)) {
    return std::move(*own);
  }
  return open_in_root(tgid, root, path);
}

std::optional<Resolution> ProcessPaths::own_descriptor(uint32_t tgid, const Fd& root,
                                                       const std::string& path) const {
  auto d = descriptor_in(path, "/dev/fd/");
  std::string_view provider = "/dev/fd";
  if (!d) {
    d = descriptor_in(path, "/proc/self/fd/");
    provider = "/proc";
  }
  if (!d) {
    d = descriptor_in(path, "/proc/thread-self/fd/");
  }
  if (!d) {
    return std::nullopt;
  }
  if (!kernel_provided(root.get(), provider)) {
    return Unresolved{false, fmt::format("{} is not the kernel's in its root", provider)};
  }
  const std::string link = fmt::format("/proc/{}/fd/{}", tgid, d->first);
  Fd fd(::open(link.c_str(), O_PATH | O_CLOEXEC));
  if (!fd) {
    return Unresolved{missing_errno(errno), errno_error(path).message};
  }
  if (!d->second.empty()) {
    // execveat(dirfd, name): "/dev/fd/N/name", relative to that directory.
    open_how how{};
    how.flags = O_PATH | O_CLOEXEC;
    how.resolve = RESOLVE_BENEATH | RESOLVE_NO_MAGICLINKS | RESOLVE_CACHED;
    Fd inner(static_cast<int>(
        ::syscall(SYS_openat2, fd.get(), d->second.c_str(), &how, sizeof(how))));
    if (!inner) {
      return Unresolved{missing_errno(errno), errno_error(path).message};
    }
    fd = std::move(inner);
  }
  return finish(tgid, std::move(fd), path);
}

Resolution ProcessPaths::open_in_root(uint32_t tgid, const Fd& root,
                                      const std::string& path) const {
  auto fd = open_cached(root.get(), path);
  if (!fd && errno == EAGAIN && may_look_up(tgid)) {
    fd = open_in(root.get(), path, false);
  }
  if (!fd) {
    return Unresolved{missing_errno(errno), fd.error().message};
  }
  return finish(tgid, std::move(*fd), path);
}

bool ProcessPaths::may_look_up(uint32_t tgid) const {
  struct stat ns {};
  if (::stat(fmt::format("/proc/{}/ns/mnt", tgid).c_str(), &ns) != 0) {
    return false;
  }
  const auto now = std::chrono::steady_clock::now();
  auto it = all_local_.find(ns.st_ino);
  if (it != all_local_.end() && now - it->second.second < std::chrono::seconds(1)) {
    return it->second.first;
  }
  auto mounts = proc_.read(tgid, "mountinfo", 4 << 20);
  bool all = mounts.ok();
  if (mounts) {
    size_t start = 0;
    const std::string_view text = *mounts;
    while (all && start < text.size()) {
      size_t end = text.find('\n', start);
      if (end == std::string_view::npos) {
        end = text.size();
      }
      const std::string_view line = text.substr(start, end - start);
      const size_t dash = line.find(" - ");
      if (dash != std::string_view::npos) {
        const std::string_view rest = line.substr(dash + 3);
        all = local_type(rest.substr(0, rest.find(' ')));
      }
      start = end + 1;
    }
  }
  all_local_[ns.st_ino] = {all, now};
  return all;
}

bool ProcessPaths::on_local_storage(uint32_t tgid, int fd) const {
  struct statx sx {};
  if (::statx(fd, "", AT_EMPTY_PATH | AT_STATX_DONT_SYNC, STATX_MNT_ID, &sx) != 0 ||
      (sx.stx_mask & STATX_MNT_ID) == 0) {
    return false;
  }
  auto local = mount_is_local(tgid, sx.stx_mnt_id);
  if (!local) {
    learn_mounts(tgid);
    local = mount_is_local(tgid, sx.stx_mnt_id);
  }
  return local.value_or(false);
}

std::optional<bool> ProcessPaths::mount_is_local(uint32_t, uint64_t mount_id) const {
  auto it = local_mounts_.find(mount_id);
  return it == local_mounts_.end() ? std::nullopt : std::optional<bool>(it->second);
}

void ProcessPaths::learn_mounts(uint32_t tgid) const {
  auto mounts = proc_.read(tgid, "mountinfo", 4 << 20);
  if (!mounts) {
    return;
  }
  if (local_mounts_.size() > 65536) {
    local_mounts_.clear();  // mount ids are not reused soon, but they pile up
  }
  size_t start = 0;
  const std::string_view text = *mounts;
  while (start < text.size()) {
    size_t end = text.find('\n', start);
    if (end == std::string_view::npos) {
      end = text.size();
    }
    const std::string_view line = text.substr(start, end - start);
    uint64_t id = 0;
    auto [after, ec] = std::from_chars(line.data(), line.data() + line.size(), id);
    const size_t dash = line.find(" - ");
    if (ec == std::errc() && dash != std::string_view::npos) {
      const std::string_view rest = line.substr(dash + 3);
      local_mounts_[id] = local_type(rest.substr(0, rest.find(' ')));
    }
    start = end + 1;
  }
}

Resolution ProcessPaths::finish(uint32_t tgid, Fd fd, const std::string& named) const {
  auto st = cached_stat(fd.get());
  if (!st) {
    return Unresolved{false, st.error().message};
  }
  if (!S_ISREG(st->st_mode)) {
    return Unresolved{false, named + " is not a regular file"};
  }
  ProcessFile f;
  f.id = {st->st_dev, st->st_ino};
  // Where it really is, inside the process's root: what path rules see.
  char buf[PATH_MAX];
  const ssize_t n =
      ::readlink(fmt::format("/proc/self/fd/{}", fd.get()).c_str(), buf, sizeof(buf) - 1);
  auto top = proc_.read_link(tgid, "root");
  if (n > 0 && top) {
    std::string_view real(buf, static_cast<size_t>(n));
    if (real.ends_with(kDeleted)) {
      real.remove_suffix(kDeleted.size());
    }
    if (*top != "/" && real.starts_with(*top) && real.size() > top->size() &&
        real[top->size()] == '/') {
      real.remove_prefix(top->size());
    }
    f.path = real;
  } else {
    f.path = named;
  }
  f.fd = std::move(fd);
  return f;
}

}  // namespace cmdgate
