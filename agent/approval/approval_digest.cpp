#include "approval/approval_digest.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>

#include <variant>
#include <vector>

#include "common/errno_error.h"
#include "context/hash_worker.h"

namespace cmdgate {
namespace {

constexpr size_t kReadChunk = 256u << 10;

Status same_file(int fd, const rules::FileId& id, const std::string& path) {
  struct statx sx {};
  if (::statx(fd, "", AT_EMPTY_PATH | AT_STATX_DONT_SYNC, STATX_INO, &sx) != 0) {
    return errno_error(path);
  }
  if (rules::FileId{makedev(sx.stx_dev_major, sx.stx_dev_minor), sx.stx_ino} != id) {
    return Error::format("{} is no longer the file that was executed", path);
  }
  return {};
}

}  // namespace

std::string permanent_path(const PendingRequest& r) {
  return r.script_path.empty() ? r.event.path : r.script_path;
}

std::optional<rules::Sha256> known_digest(const PendingRequest& r) {
  return r.scripts.empty() ? r.exe_sha256 : r.scripts.front().sha256;
}

Result<DigestSource> digest_source(const PendingRequest& r, const ProcessPaths& paths) {
  DigestSource s;
  s.path = permanent_path(r);
  if (r.scripts.empty()) {
    s.id = r.event.file;
    s.file.reset(::open(fmt::format("/proc/{}/exe", r.event.tgid).c_str(), O_PATH | O_CLOEXEC));
    if (!s.file) {
      return errno_error(s.path);
    }
  } else {
    const FileFact& script = r.scripts.front();
    if (script.unknown & rules::kUnknownFile) {
      return Error{"the script could not be identified"};
    }
    Resolution res = paths.resolve(r.event.tgid, script.path);
    if (auto* u = std::get_if<Unresolved>(&res)) {
      return Error::format("{}: {}", script.path, u->why);
    }
    s.id = script.id;
    s.file = std::move(std::get<ProcessFile>(res).fd);
  }
  if (auto st = same_file(s.file.get(), s.id, s.path); !st) {
    return st.error();
  }
  return s;
}

Result<rules::Sha256> read_digest(const DigestSource& s, const HashSettings& limits) {
  const auto deadline = std::chrono::steady_clock::now() + limits.max_time;
  Fd f(::open(fmt::format("/proc/self/fd/{}", s.file.get()).c_str(),
              O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK));
  if (!f) {
    return errno_error(s.path);
  }
  struct stat st {};
  if (::fstat(f.get(), &st) != 0) {
    return errno_error(s.path);
  }
  if (!S_ISREG(st.st_mode) || rules::FileId{st.st_dev, st.st_ino} != s.id) {
    return Error::format("{} is no longer the file that was executed", s.path);
  }
  if (static_cast<uint64_t>(st.st_size) > limits.max_bytes) {
    return Error{hash_text::too_large(static_cast<uint64_t>(st.st_size), limits.max_bytes)};
  }
  std::vector<unsigned char> buffer(kReadChunk);
  HashDone d = hash_bounded(f.get(), FileStamp::of(st), limits, deadline, buffer, Digests::kSha256);
  if (d.outcome != HashOutcome::kOk) {
    return Error{d.message};
  }
  return d.digest.sha256;
}

}  // namespace cmdgate
