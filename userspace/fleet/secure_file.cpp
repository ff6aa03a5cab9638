#include "fleet/secure_file.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <charconv>
#include <filesystem>

#include "common/errno_error.h"
#include "common/fd.h"
#include "common/regular_file.h"
#include "common/write_all.h"

namespace cmdgate::fleet {
namespace {

std::string temporary_prefix(const std::filesystem::path& target) {
  return "." + target.filename().string() + ".tmp.";
}

// What a writer killed before its rename left: one file per crash (the last-known-good copy of
// many rules is a megabyte). A live process's is left alone: it may be writing it.
void remove_orphaned_temporaries(const std::string& dir, const std::filesystem::path& target) {
  const std::string prefix = temporary_prefix(target);
  std::error_code ec;
  for (std::filesystem::directory_iterator it(dir, ec), end; !ec && it != end; it.increment(ec)) {
    const std::string name = it->path().filename().string();
    if (!name.starts_with(prefix)) {
      continue;
    }
    pid_t pid = 0;
    const char* last = name.data() + name.size();
    const auto [ptr, err] = std::from_chars(name.data() + prefix.size(), last, pid);
    if (err != std::errc() || ptr != last || pid <= 0) {
      continue;
    }
    if (pid == ::getpid() || (::kill(pid, 0) != 0 && errno == ESRCH)) {
      ::unlink(it->path().c_str());
    }
  }
}

Status check_owner_and_mode(const std::string& path, const struct stat& st, Protection protection) {
  if (st.st_uid != 0 && st.st_uid != ::geteuid()) {
    return Error::format("{}: owned by uid {}; only root or uid {} may own it", path, st.st_uid,
                         ::geteuid());
  }
  const mode_t forbidden = protection == Protection::kSecret ? 0077 : 0022;
  if ((st.st_mode & forbidden) != 0) {
    return Error::format("{}: mode {:04o} lets {} {} it; run chmod {} {}", path, st.st_mode & 07777,
                         "group or others", protection == Protection::kSecret ? "access" : "write",
                         protection == Protection::kSecret ? "600" : "go-w", path);
  }
  return {};
}

}  // namespace

Result<std::string> read_protected_file(const std::string& path, Protection protection,
                                        size_t max_bytes) {
  return read_regular_file(path, max_bytes, [&](const struct stat& st) {
    return check_owner_and_mode(path, st, protection);
  });
}

Status check_protected_dir(const std::string& path) {
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0) {
    return errno_error(path);
  }
  if (!S_ISDIR(st.st_mode)) {
    return Error::format("{}: not a directory", path);
  }
  return check_owner_and_mode(path, st, Protection::kTrusted);
}

Status write_new_file(const std::string& path, std::string_view bytes, mode_t mode) {
  const Fd fd(::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, mode));
  if (!fd) {
    return errno_error(path);
  }
  // open() applied the umask; the mode must be exactly what was asked.
  if (::fchmod(fd.get(), mode) != 0) {
    return errno_error(path);
  }
  if (auto s = write_all(fd.get(), bytes); !s) {
    return s.error().context(path);
  }
  if (::fsync(fd.get()) != 0) {
    return errno_error(fmt::format("fsync {}", path));
  }
  return {};
}

Status write_file_atomically(const std::string& path, std::string_view bytes, mode_t mode) {
  const std::filesystem::path target(path);
  const std::string dir = target.has_parent_path() ? target.parent_path().string() : ".";
  const std::string tmp = fmt::format("{}/{}{}", dir, temporary_prefix(target), ::getpid());
  remove_orphaned_temporaries(dir, target);  // ours included: a crashed predecessor had our pid
  if (auto s = write_new_file(tmp, bytes, mode); !s) {
    ::unlink(tmp.c_str());
    return s;
  }
  if (::rename(tmp.c_str(), path.c_str()) != 0) {
    const Error e = errno_error(fmt::format("renaming {} to {}", tmp, path));
    ::unlink(tmp.c_str());
    return e;
  }
  const Fd d(::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (!d || ::fsync(d.get()) != 0) {
    return errno_error(fmt::format("fsync {}", dir));
  }
  return {};
}

Status make_dirs(const std::string& path, mode_t mode) {
  std::string prefix;
  size_t pos = 0;
  while (pos != std::string::npos) {
    pos = path.find('/', pos + 1);
    prefix = path.substr(0, pos);
    if (prefix.empty()) {
      continue;
    }
    if (::mkdir(prefix.c_str(), mode) != 0 && errno != EEXIST) {
      return errno_error(fmt::format("creating {}", prefix));
    }
  }
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0 || !S_ISDIR(st.st_mode)) {
    return Error::format("{}: not a directory", path);
  }
  return {};
}

}  // namespace cmdgate::fleet
